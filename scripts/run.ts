/**
 * `npm start` and `npm run dev`: prepares the database (the embedded PostgreSQL when DATABASE_URL
 * is unset), applies migrations, ensures the demo user and its API key (not in production), then
 * runs the API and the worker with DATABASE_URL pointing at it, prints how to call it, and stops
 * everything cleanly on Ctrl-C or SIGTERM. `npm start` builds the dashboard first when its sources
 * changed since its last build (the API serves it under /app); `npm run dev` serves it from Vite,
 * reloading on every change.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { once } from "node:events"
import { readdir, stat } from "node:fs/promises"
import { createServer } from "node:net"
import { isAbsolute, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { loadConfigOrExit } from "@txn/config"
import { connectDatabaseOrExit, migrate } from "@txn/db"
import {
  apiNodeFlags,
  compileCacheDirectory,
  makeAccessLayer,
  primeCompileCache,
} from "@txn/platform"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { demoUserId, ensureDemoApiKey } from "./demoApiKey.ts"

const mode = process.argv[2] === "dev" ? "dev" : "start"
const production = process.env.NODE_ENV === "production"
const config = loadConfigOrExit()

/** Whether the API's address can be listened on, asked before anything is started. */
const portFree = (host: string, port: number) =>
  new Promise<boolean>((resolve, reject) => {
    const probe = createServer()
    probe.once("error", (error: NodeJS.ErrnoException) =>
      error.code === "EADDRINUSE" ? resolve(false) : reject(error),
    )
    probe.listen(port, host, () => probe.close(() => resolve(true)))
  })
if (!(await portFree(config.host, config.port))) {
  console.error(
    `Port ${config.port} on ${config.host} is already in use (is another npm start running?). ` +
      `Set PORT to a free port, e.g. PORT=${config.port + 1} npm ${mode === "dev" ? "run dev" : "start"}.`,
  )
  process.exit(1)
}

const root = fileURLToPath(new URL("../", import.meta.url))
const entries = [
  { path: "apps/api/src/main.ts", nodeFlags: apiNodeFlags },
  { path: "apps/worker/src/main.ts", nodeFlags: [] },
]
// While the database starts: the children then start with every module's TypeScript stripped
// already, and never load Node's stripper (tens of MB that would stay resident in each).
const primed =
  mode === "start"
    ? Promise.all(entries.map((entry) => primeCompileCache(root, entry.path, entry.nodeFlags)))
    : Promise.resolve()

/** The newest modification time under `path` (a file or a folder), 0 if it is not there. */
const newest = async (path: string): Promise<number> => {
  const info = await stat(path).catch(() => undefined)
  if (info === undefined) return 0
  if (!info.isDirectory()) return info.mtimeMs
  const entries = await readdir(path)
  return Math.max(0, ...(await Promise.all(entries.map((entry) => newest(join(path, entry))))))
}
/**
 * The dashboard built into apps/web/dist unless it is newer than everything it is built from.
 * A failed build is reported and the API starts anyway (/app then says it is not built).
 */
const buildDashboard = async () => {
  const web = join(root, "apps/web")
  const built = await newest(join(web, "dist/index.html"))
  const sources = await Promise.all(
    ["src", "index.html", "vite.config.ts", "package.json"]
      .map((path) => join(web, path))
      .concat(join(root, "packages/client/src"))
      .map(newest),
  )
  if (built > Math.max(...sources)) return
  const started = Date.now()
  try {
    await promisify(execFile)("npm", ["run", "build", "-w", "@txn/web"], { cwd: root })
    console.log(`Built the dashboard in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string }
    console.error(`The dashboard did not build; /app will say so.
${stdout}${stderr}`)
  }
}
const dashboardBuilt = mode === "start" ? buildDashboard() : Promise.resolve()
const database = await connectDatabaseOrExit(config)
// Relative to the repository root, like the embedded PostgreSQL's data (git-ignored `.data`).
const demoKeyFile = resolve(root, config.dataDir, "demo-api-key")
const setup = ManagedRuntime.make(
  makeAccessLayer({
    databaseUrl: database.url,
    maxConnections: 1,
    databaseDirectUrl: config.databaseDirectUrl,
  }),
)
await setup.runPromise(migrate.pipe(Effect.orDie))
const demo = production ? undefined : await setup.runPromise(ensureDemoApiKey(demoKeyFile))
await setup.dispose()

await primed
await dashboardBuilt
const env = {
  ...process.env,
  DATABASE_URL: Redacted.value(database.url),
  NODE_COMPILE_CACHE: compileCacheDirectory(root),
}
// The API's output is passed through and read: ready means THIS API logged that it listens (a
// server already on the port, another instance's say, would answer /readyz just the same).
const children: Array<ChildProcess> =
  mode === "dev"
    ? [
        spawn(
          "turbo",
          ["run", "dev", "--filter=@txn/api", "--filter=@txn/worker", "--filter=@txn/web"],
          {
            env,
            stdio: ["inherit", "pipe", "inherit"],
          },
        ),
      ]
    : entries.map((entry, index) =>
        spawn(process.execPath, [...entry.nodeFlags, entry.path], {
          env,
          stdio: ["inherit", index === 0 ? "pipe" : "inherit", "inherit"],
        }),
      )

let api = "starting" as "starting" | "listening" | "port in use"
let pending = ""
children[0]!.stdout!.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk)
  const lines = (pending + chunk.toString("utf8")).split("\n")
  pending = lines.pop() ?? ""
  for (const line of lines) {
    if (line.includes('"msg":"api listening"')) api = "listening"
    else if (line.includes('"msg":"api port in use"')) api = "port in use"
  }
})

let stopping = false
let stopped: Promise<never> | undefined
/** Stops the children, then the database, then exits; callers after the first wait for that one. */
const stop = (code: number): Promise<never> => {
  stopping = true
  stopped ??= (async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill("SIGTERM")
        await once(child, "exit")
      }),
    )
    await database.stop()
    return process.exit(code)
  })()
  return stopped
}
process.once("SIGINT", () => void stop(0))
process.once("SIGTERM", () => void stop(0))
for (const child of children) {
  child.once("exit", (code) => {
    if (!stopping) {
      console.error(`A child process exited (code ${code}); stopping the rest.`)
      void stop(code ?? 1)
    }
  })
}

const base = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}`
const deadline = Date.now() + 60_000
let ready = false
while (!ready && Date.now() < deadline && !stopping) {
  // The API said why it cannot listen; under `npm run dev` it waits for a change instead of exiting.
  if (api === "port in use") await stop(1)
  ready =
    api === "listening" &&
    (await fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    ))
  if (!ready) await new Promise((resolve) => setTimeout(resolve, 250))
}
if (!ready) {
  if (!stopping) console.error(`The API did not become ready at ${base}/readyz within 60 s.`)
  await stop(1)
}

const shown = (path: string) => {
  const fromHere = relative(process.cwd(), path)
  return fromHere.startsWith("..") || isAbsolute(fromHere) ? path : fromHere
}
// Under npm run dev, Vite serves the dashboard (passing /trpc and /v1 to the API) and reloads it.
const dashboard = mode === "dev" ? "http://127.0.0.1:5173/app/" : `${base}/app/`
const howToCall =
  demo === undefined
    ? `
  No demo API key (NODE_ENV=production). Create a user and a key:
    npm run txn -- users create --name <name>
    npm run txn -- api-keys create --user <usr_id> --scopes read,write
`
    : `
  Demo API key (user ${demoUserId}, read and write; kept in ${shown(demoKeyFile)}):
    ${demo.secret}

  Try it (the same operations over tRPC under /trpc):
    curl -s -X POST ${base}/v1/accounts \\
      -H 'authorization: Bearer ${demo.secret}' \\
      -H 'content-type: application/json' \\
      -d '{"name":"Wallet","currency":"USD"}'
    curl -s ${base}/v1/accounts \\
      -H 'authorization: Bearer ${demo.secret}'

  Docs: ${base}/docs  (OpenAPI 3.1 at ${base}/openapi.json)

  More users and keys: npm run txn -- --help
`

console.log(`
  Transaction API ready at ${base}  (REST at ${base}/v1, tRPC at ${base}/trpc, docs at ${base}/docs)
  Database: ${config.databaseUrl === undefined ? `embedded PostgreSQL, data in ${config.dataDir}/postgres` : "DATABASE_URL"}
  Jobs:     BullMQ on ${config.redisUrl === undefined ? "PostgreSQL (set REDIS_URL for Redis)" : "Redis"}
  Dashboard: ${dashboard}  (sign in with ${demo === undefined ? "an API key" : "the demo API key below"})
${howToCall}`)
