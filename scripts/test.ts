/**
 * `npm test`: creates a fresh, migrated database for this run on DATABASE_URL's server (or on the
 * embedded PostgreSQL when it is unset), runs every workspace's tests against it, then drops it.
 * Arguments after `--` go to turbo, e.g. `npm test -- --filter=@txn/api`; `--pgbouncer` runs them
 * through PgBouncer in transaction mode (`npm run test:pgbouncer`).
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { loadConfigOrExit } from "@txn/config"
import { connectDatabaseOrExit, createDatabase, dropDatabase, migrate, PgDatabase } from "@txn/db"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { hasPgbouncer, pgbouncerPath, startPgbouncer } from "./pgbouncer.ts"

const config = loadConfigOrExit()
const server = await connectDatabaseOrExit(config)
const serverUrl = new URL(Redacted.value(server.url))
const name = `txn_test_${Date.now()}_${randomBytes(3).toString("hex")}`
await createDatabase(serverUrl.href, name)
const testUrl = new URL(serverUrl.href)
testUrl.pathname = `/${name}`
await Effect.runPromise(
  migrate.pipe(
    Effect.provide(PgDatabase.layer({ url: Redacted.make(testUrl.href), maxConnections: 1 })),
  ),
)
if (config.redisUrl === undefined) {
  console.log("REDIS_URL is not set: tests of the Redis queue backend will be skipped.")
}

// `--pgbouncer`: the tests reach the database through PgBouncer in transaction mode, as a
// deployment behind one does; what needs a session of its own connects directly.
const throughPgbouncer = process.argv.includes("--pgbouncer")
const turboArgs = process.argv.slice(2).filter((arg) => arg !== "--pgbouncer")
if (throughPgbouncer && !hasPgbouncer) {
  console.log(`${pgbouncerPath} is not installed (Debian's pgbouncer): skipping the PgBouncer run.`)
  await dropDatabase(serverUrl.href, name)
  await server.stop()
  process.exit(0)
}
const pgbouncer = throughPgbouncer ? await startPgbouncer(serverUrl, name) : undefined
const child = spawn("turbo", ["run", "test", ...turboArgs], {
  stdio: "inherit",
  env: {
    ...process.env,
    ...(pgbouncer === undefined
      ? { DATABASE_URL: testUrl.href }
      : { DATABASE_URL: pgbouncer.url.href, DATABASE_DIRECT_URL: testUrl.href }),
  },
})
// Interrupted (Ctrl-C, CI cancel): stop the tests, then still drop the database and the server.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => child.kill(signal))
}
const [code] = (await once(child, "exit")) as [number | null]

await pgbouncer?.stop()
await dropDatabase(serverUrl.href, name)
await server.stop()
process.exit(code ?? 1)
