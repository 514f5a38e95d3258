import { once } from "node:events"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runNode, testProcessEnv } from "@txn/testing"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))

/**
 * Another instance on the port, as a first `npm start` would be: it answers /readyz with 200,
 * so a readiness check that reaches it instead of its own API takes it for ready.
 */
let other: Server
let port: number
let dataDir: string
beforeEach(async () => {
  other = createServer((_, response) => response.writeHead(200).end('{"status":"ready"}'))
  other.listen(0, "127.0.0.1")
  await once(other, "listening")
  port = (other.address() as AddressInfo).port
  dataDir = await mkdtemp(join(tmpdir(), "txn-port-"))
})
afterEach(async () => {
  other.close()
  await rm(dataDir, { recursive: true, force: true })
})

/** Runs a command of the repository to its end, bounded, with the API's port taken. */
const run = ([script = "", ...args]: ReadonlyArray<string>) =>
  runNode(script, args, {
    cwd: root,
    env: {
      ...testProcessEnv(),
      PORT: String(port),
      HOST: "127.0.0.1",
      TXN_DATA_DIR: dataDir,
    },
  })

describe("on a port already in use", { timeout: 90_000 }, () => {
  it("npm start says the port is taken, naming it and PORT, and exits 1 without a ready banner", async () => {
    const result = await run(["scripts/run.ts", "start"])
    expect(result.code).toBe(1)
    expect(result.stdout).not.toContain("ready at")
    expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`)
    expect(result.stderr).toContain("Set PORT to a free port")
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/EADDRINUSE|\n\s+at /)
  })

  it("the API alone says the port is taken and exits 1, with no stack trace", async () => {
    const result = await run(["apps/api/src/main.ts"])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`)
    expect(result.stderr).toContain("Set PORT to a free port")
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/EADDRINUSE|\n\s+at /)
    expect(
      result.stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line).msg),
    ).toContain("api port in use")
  })
})
