import type { LogLevel } from "@txn/config"
import { makeLog } from "../src/Log.ts"

/** A logger writing into memory: `raw` is every line exactly as written, `lines` each one parsed. */
export const captureLog = (level: LogLevel = "trace", name = "test") => {
  const chunks: Array<string> = []
  const log = makeLog({ name, level, destination: { write: (chunk) => void chunks.push(chunk) } })
  return {
    log,
    raw: () => chunks.join(""),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  }
}
