import { loadConfigOrExit } from "@txn/config"
import { connectDatabase, migrate } from "@txn/db"
import type { Access } from "@txn/domain"
import { makeAccessLayer } from "@txn/platform"
import * as Effect from "effect/Effect"

/** The embedded PostgreSQL could not be used: its message says why and what to do. */
const isEmbeddedPostgresError = (error: unknown): error is Error =>
  error instanceof Error && error.name === "EmbeddedPostgresError"

/**
 * Runs `effect` with `Access` on the project's database (DATABASE_URL, or the embedded PostgreSQL,
 * started for the command if it is not running), migrated first unless NODE_ENV=production.
 * The connection is made only now, once the command line has been checked.
 */
export const withAccess = <A, E>(effect: Effect.Effect<A, E, Access>) =>
  Effect.gen(function* () {
    const config = yield* Effect.sync(() => loadConfigOrExit())
    const database = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => connectDatabase(config), catch: (error) => error }).pipe(
        Effect.catch((error) =>
          isEmbeddedPostgresError(error) ? Effect.fail(error) : Effect.die(error),
        ),
      ),
      (database) => Effect.promise(() => database.stop()),
    )
    return yield* Effect.gen(function* () {
      if (config.migrateOnStart) yield* migrate.pipe(Effect.orDie)
      return yield* effect
    }).pipe(
      Effect.provide(
        makeAccessLayer({
          databaseUrl: database.url,
          maxConnections: 1,
          databaseDirectUrl: config.databaseDirectUrl,
        }),
      ),
    )
  }).pipe(Effect.scoped)
