/**
 * PgBouncer in transaction mode in front of one PostgreSQL server, on a free loopback port, for
 * `npm run test:pgbouncer`: Debian's `pgbouncer`, with a config written to a temporary folder,
 * stopped by its pid.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "@txn/testing"

export const pgbouncerPath = "/usr/sbin/pgbouncer"
export const hasPgbouncer = existsSync(pgbouncerPath)

/**
 * Starts PgBouncer for `serverUrl`'s host, port and user, any database name; returns the URL of
 * `database` through it, and `stop()`.
 */
export const startPgbouncer = async (serverUrl: URL, database: string) => {
  const dir = await mkdtemp(join(tmpdir(), "txn-pgbouncer-"))
  const port = await freePort()
  const user = decodeURIComponent(serverUrl.username || "postgres")
  const password = decodeURIComponent(serverUrl.password)
  const server = [
    `host=${serverUrl.hostname}`,
    `port=${serverUrl.port || "5432"}`,
    `user=${user}`,
    ...(password === "" ? [] : [`password=${password}`]),
  ].join(" ")
  await writeFile(
    join(dir, "pgbouncer.ini"),
    `[databases]
* = ${server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, "users.txt")}
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
server_reset_query =
logfile = ${join(dir, "pgbouncer.log")}
pidfile = ${join(dir, "pgbouncer.pid")}
`,
    { mode: 0o644 },
  )
  // Clients on loopback are trusted as the server's user; the server checks that user itself.
  await writeFile(join(dir, "users.txt"), `"${user.replaceAll('"', '""')}" ""\n`, { mode: 0o644 })
  // PgBouncer will not run as root: as root, it runs as nobody, which must write its folder.
  const asRoot = process.getuid?.() === 0
  if (asRoot) await chmod(dir, 0o777)
  const proc: ChildProcess = spawn(
    pgbouncerPath,
    [...(asRoot ? ["-u", "nobody"] : []), join(dir, "pgbouncer.ini")],
    { stdio: ["ignore", "ignore", "pipe"] },
  )
  let stderr = ""
  proc.stderr?.on("data", (chunk) => {
    stderr += chunk
  })
  // Ready once it accepts connections; bounded.
  const url = new URL(serverUrl.href)
  url.hostname = "127.0.0.1"
  url.port = String(port)
  url.pathname = `/${database}`
  const deadline = Date.now() + 10_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pgbouncer exited: ${stderr}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
    if (open) break
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen within 10 s: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    stop: async () => {
      // Gone before its time: say why, from its own log.
      if (proc.exitCode !== null || proc.signalCode !== null) {
        const log = await readFile(join(dir, "pgbouncer.log"), "utf8").catch(() => "")
        console.error(
          `pgbouncer stopped early (${proc.exitCode ?? proc.signalCode}):\n${log.split("\n").slice(-30).join("\n")}${stderr}`,
        )
      }
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM")
        await new Promise((resolve) => proc.once("exit", resolve))
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
