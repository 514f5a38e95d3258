/**
 * `npm test`: creates a fresh, migrated database for this run on DATABASE_URL's server (or on the
 * embedded PostgreSQL when it is unset), runs every workspace's tests against it, then drops it.
 * Arguments after `--` go to turbo, e.g. `npm test -- --filter=@txn/api`.
 */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { loadConfigOrExit } from "@txn/config"
import { connectDatabaseOrExit, createDatabase, dropDatabase, migrate, PgDatabase } from "@txn/db"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"

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

const child = spawn("turbo", ["run", "test", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, DATABASE_URL: testUrl.href },
})
// Interrupted (Ctrl-C, CI cancel): stop the tests, then still drop the database and the server.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => child.kill(signal))
}
const [code] = (await once(child, "exit")) as [number | null]

await dropDatabase(serverUrl.href, name)
await server.stop()
process.exit(code ?? 1)
