/**
 * `npm start` and `npm run dev`: prepares the database (the embedded PostgreSQL when DATABASE_URL
 * is unset), applies migrations, then runs the API and the worker with DATABASE_URL pointing at it,
 * and stops everything cleanly on Ctrl-C or SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { loadConfigOrExit } from "@txn/config"
import { connectDatabase, migrate, PgDatabase } from "@txn/db"
import { Effect, Redacted } from "effect"

const mode = process.argv[2] === "dev" ? "dev" : "start"
const config = loadConfigOrExit()
const database = await connectDatabase(config)
await Effect.runPromise(
  migrate.pipe(Effect.provide(PgDatabase.layer({ url: database.url, maxConnections: 1 }))),
)

const env = { ...process.env, DATABASE_URL: Redacted.value(database.url) }
const children: Array<ChildProcess> =
  mode === "dev"
    ? [
        spawn("turbo", ["run", "dev", "--filter=@txn/api", "--filter=@txn/worker"], {
          env,
          stdio: "inherit",
        }),
      ]
    : ["apps/api/src/main.ts", "apps/worker/src/main.ts"].map((entry) =>
        spawn(process.execPath, [entry], { env, stdio: "inherit" }),
      )

let stopping = false
const stop = async (code: number) => {
  if (stopping) return
  stopping = true
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill("SIGTERM")
      await once(child, "exit")
    }),
  )
  await database.stop()
  process.exit(code)
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
  ready = await fetch(`${base}/readyz`).then(
    (response) => response.ok,
    () => false,
  )
  if (!ready) await new Promise((resolve) => setTimeout(resolve, 250))
}
if (!ready) {
  if (!stopping) console.error(`The API did not become ready at ${base}/readyz within 60 s.`)
  await stop(1)
}

console.log(`
  Transaction API ready at ${base}  (tRPC at ${base}/trpc, health at ${base}/healthz)
  Database: ${config.databaseUrl === undefined ? `embedded PostgreSQL, data in ${config.dataDir}/postgres` : "DATABASE_URL"}
  Jobs:     BullMQ on ${config.redisUrl === undefined ? "PostgreSQL (set REDIS_URL for Redis)" : "Redis"}

  Try it:
    curl -s -X POST ${base}/trpc/accounts.create \\
      -H 'content-type: application/json' \\
      -d '{"name":"Wallet","currency":"USD"}'
    curl -s ${base}/trpc/accounts.list
`)
