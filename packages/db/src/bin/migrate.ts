import { loadConfigOrExit } from "@txn/config"
import * as Effect from "effect/Effect"
import { connectDatabaseOrExit } from "../Database.ts"
import { migrate } from "../Migrations.ts"
import * as PgDatabase from "../PgDatabase.ts"

const config = loadConfigOrExit()
const database = await connectDatabaseOrExit(config)
try {
  const applied = await Effect.runPromise(
    migrate.pipe(Effect.provide(PgDatabase.layer({ url: database.url, maxConnections: 1 }))),
  )
  console.log(
    applied.length === 0
      ? "Database schema is up to date."
      : `Applied migrations: ${applied.map(([id, name]) => `${id}_${name}`).join(", ")}`,
  )
} finally {
  await database.stop()
}
