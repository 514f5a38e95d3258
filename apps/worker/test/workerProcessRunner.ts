import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { eventually } from "@txn/testing"

/**
 * Runs a worker entry point (`src/main.ts`, or the test's variant of it) as a process of its own
 * with only `env`, and collects its JSON log lines. `waitFor` fails early, with its stderr, if
 * the process exits before logging the line.
 */
export const spawnWorkerProcess = (script: string, env: Record<string, string>) => {
  const proc = spawn(process.execPath, [script], {
    // The tests' webhook receivers listen on 127.0.0.1.
    env: { PATH: process.env.PATH, LOG_LEVEL: "info", TXN_WEBHOOK_ALLOW_PRIVATE: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  })
  const lines: Array<Record<string, unknown>> = []
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    lines.push(JSON.parse(line))
  })
  let stderr = ""
  proc.stderr!.on("data", (chunk) => {
    stderr += chunk
  })
  const waitFor = (msg: string) =>
    eventually(
      async () => {
        const found = lines.find((line) => line.msg === msg)
        if (found === undefined && proc.exitCode !== null) {
          throw new Error(`worker exited with ${proc.exitCode} before "${msg}": ${stderr}`)
        }
        return found
      },
      { what: `the "${msg}" log line` },
    )
  return { proc, lines, waitFor }
}
