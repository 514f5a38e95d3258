import { IdempotencyStore, idempotencyKeyDays } from "@txn/domain"
import { Effect, Layer } from "effect"
import { SqlClient, SqlError } from "effect/sql"

export const layer = Layer.effect(
  IdempotencyStore,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    // A duplicate waits here on the first request's uncommitted row; once that commits, the
    // insert does nothing and the follow-up SELECT (a new snapshot) reads the stored answer.
    const insert = (userId: string, key: string, operation: string, hash: string, now: Date) =>
      sql`
        insert into idempotency_keys (user_id, key, operation, request_hash, created_at, expires_at)
        values (${userId}, ${key}, ${operation}, ${hash}, ${now.toISOString()}::timestamptz,
                ${now.toISOString()}::timestamptz + ${`${idempotencyKeyDays} days`}::interval)
        on conflict (user_id, key) do nothing
        returning key`

    return IdempotencyStore.of({
      claim: (userId, key, operation, hash, now) =>
        Effect.gen(function* () {
          if ((yield* insert(userId, key, operation, hash, now)).length > 0) {
            return { _tag: "Claimed" } as const
          }
          const [found] = yield* sql<{
            readonly operation: string
            readonly requestHash: string
            readonly response: unknown
            readonly expired: boolean
          }>`
            select operation, request_hash, response,
                   expires_at <= ${now.toISOString()}::timestamptz as expired
              from idempotency_keys where user_id = ${userId} and key = ${key}`
          if (found === undefined || found.expired) {
            // Forgotten: the key starts over.
            yield* sql`delete from idempotency_keys where user_id = ${userId} and key = ${key}`
            yield* insert(userId, key, operation, hash, now)
            return { _tag: "Claimed" } as const
          }
          if (found.operation !== operation || found.requestHash !== hash) {
            return { _tag: "Mismatch" } as const
          }
          return { _tag: "Replay", response: found.response } as const
        }).pipe(Effect.orDie, Effect.withSpan("PgIdempotencyStore.claim")),

      complete: (userId, key, response) =>
        sql`
          update idempotency_keys set response = ${JSON.stringify(response)}::jsonb
           where user_id = ${userId} and key = ${key}`.pipe(
          Effect.asVoid,
          Effect.orDie,
          Effect.withSpan("PgIdempotencyStore.complete"),
        ),

      // A failure of the effect rolls the key back with the write; database errors are defects.
      atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        sql.withTransaction(effect).pipe(
          Effect.catchIf(
            (error): error is SqlError.SqlError => SqlError.isSqlError(error),
            (error) => Effect.die(error),
          ),
        ) as Effect.Effect<A, E, R>,
    })
  }),
)
