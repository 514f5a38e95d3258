import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { once } from "node:events"
import { eventually, freePort } from "@txn/testing"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"

/** Why tests that start a Redis server of their own are skipped here, if they are. */
export const redisServerMissing: string | undefined = (() => {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" })
  if (probe.error === undefined && probe.status === 0) return undefined
  console.warn("redis-server is not installed: the tests that stop and restart Redis are skipped.")
  return "redis-server is not installed"
})()

/**
 * A Redis server of the test's own on a free port, keeping nothing on disk, which the test may
 * stop and start again (empty) without touching the machine's shared one.
 */
export const startRedisServer = async () => {
  const port = await freePort()
  let server: ChildProcess | undefined
  const ping = async () => {
    const client = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    })
    client.on("error", () => undefined)
    try {
      await client.connect()
      return (await client.ping()) === "PONG" ? true : undefined
    } catch {
      return undefined
    } finally {
      client.disconnect()
    }
  }
  const start = async () => {
    server = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory-policy",
        "noeviction",
      ],
      { stdio: "ignore" },
    )
    await eventually(ping, { what: `redis-server on port ${port}` })
  }
  const stop = async () => {
    if (server === undefined || server.exitCode !== null) return
    const exited = once(server, "exit")
    server.kill("SIGKILL")
    await exited
  }
  await start()
  return { url: Redacted.make(`redis://127.0.0.1:${port}`), port, start, stop }
}
