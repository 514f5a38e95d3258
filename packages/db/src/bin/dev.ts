import { loadConfig } from "@txn/config"
import { Effect } from "effect"
import { connectDatabase } from "../Database.ts"
import { migrate } from "../Migrations.ts"
import * as PgDatabase from "../PgDatabase.ts"

// `turbo dev` runs this beside the API and worker: it keeps the database up and migrated.
const config = loadConfig()
const database = await connectDatabase(config)
await Effect.runPromise(
  migrate.pipe(Effect.provide(PgDatabase.layer({ url: database.url, maxConnections: 1 }))),
)
console.log(
  config.databaseUrl === undefined
    ? `Embedded PostgreSQL ready on 127.0.0.1:${config.embeddedPostgresPort}, migrations applied.`
    : "Database migrated.",
)
const stop = async () => {
  await database.stop()
  process.exit(0)
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
setInterval(() => {}, 1 << 30)
