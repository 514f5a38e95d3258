import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { freePort, testProcessEnv } from "@txn/testing"
import { expect } from "vitest"
import type { Json } from "./harness.ts"

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))

/** An API process started as the README's start command starts it, with its JSON log lines. */
export interface ApiProcess {
  readonly proc: ChildProcess
  readonly port: number
  readonly adminToken: string
  readonly lines: ReadonlyArray<Json>
  /** The first log line with this message, once the process has written it. */
  readonly waitFor: (msg: string) => Promise<Json>
}

/**
 * Starts `src/main.ts` on the run's database and a free port, or on `requestedPort` (a replica
 * restarted where a load balancer expects it); `env` adds to its environment.
 */
export const startApiProcess = async (
  env: Record<string, string> = {},
  adminToken = randomBytes(32).toString("base64url"),
  requestedPort?: number,
): Promise<ApiProcess> => {
  const port = requestedPort ?? (await freePort())
  const proc = spawn(process.execPath, [main], {
    env: {
      ...testProcessEnv(),
      PORT: String(port),
      LOG_LEVEL: "info",
      TXN_ADMIN_TOKEN: adminToken,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  const lines: Array<Json> = []
  const waiters: Array<() => void> = []
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    lines.push(JSON.parse(line))
    for (const wake of waiters.splice(0)) wake()
  })
  let stderr = ""
  proc.stderr!.on("data", (chunk) => {
    stderr += chunk
  })
  const waitFor = (msg: string) =>
    new Promise<Json>((resolve, reject) => {
      const check = () => {
        const found = lines.find((line) => line.msg === msg)
        if (found !== undefined) return resolve(found)
        if (proc.exitCode !== null) return reject(new Error(`exited before "${msg}": ${stderr}`))
        waiters.push(check)
      }
      proc.once("exit", check)
      check()
    })
  return { proc, port, adminToken, lines, waitFor }
}

/** A tRPC mutation over HTTP with a bearer token; its `result.data`, or a failed expectation. */
export const mutate = async (url: string, token: string, path: string, input: unknown) => {
  const response = await fetch(`${url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(input),
  })
  const body = (await response.json()) as Json
  expect([path, response.status]).toEqual([path, 200])
  return body.result.data
}

/** A user and an API key made through the admin API, as an operator would. */
export const provisionKey = async (
  url: string,
  adminToken: string,
): Promise<{ readonly keyId: string; readonly secret: string }> => {
  const user = await mutate(url, adminToken, "admin.users.create", { name: "Process test" })
  const created = await mutate(url, adminToken, "admin.apiKeys.create", {
    userId: user.id,
    name: "process test",
    scopes: ["read", "write"],
  })
  return { keyId: created.apiKey.id, secret: created.secret }
}
