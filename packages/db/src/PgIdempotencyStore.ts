import { IdempotencyStore, idempotencyKeyDays, type UserId } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "./DatabaseError.ts"

/** How long a key is remembered, as an interval of SQL. */
export const keyLifetime = `${idempotencyKeyDays} days`

export const layer = Layer.effect(
  IdempotencyStore,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)

    // A duplicate waits here on the first request's uncommitted row; once that commits, the
    // insert does nothing and the follow-up SELECT (a new snapshot) reads the stored answer.
    const insert = (userId: string, key: string, operation: string, hash: string, now: Date) =>
      sql`
        insert into idempotency_keys (user_id, key, operation, request_hash, created_at, expires_at)
        values (${userId}, ${key}, ${operation}, ${hash}, ${now.toISOString()}::timestamptz,
                ${now.toISOString()}::timestamptz + ${keyLifetime}::interval)
        on conflict (user_id, key) do nothing
        returning key`

    /** What the key holds for this request, as committed. */
    const read = (userId: UserId, key: string, operation: string, hash: string, now: Date) =>
      Effect.gen(function* () {
        const [found] = yield* sql<{
          readonly operation: string
          readonly requestHash: string
          readonly response: unknown
          readonly expired: boolean
        }>`
          select operation, request_hash, response,
                 expires_at <= ${now.toISOString()}::timestamptz as expired
            from idempotency_keys where user_id = ${userId} and key = ${key}`
        if (found === undefined || found.expired) return { _tag: "Free" } as const
        if (found.operation !== operation || found.requestHash !== hash) {
          return { _tag: "Mismatch" } as const
        }
        return { _tag: "Replay", response: found.response } as const
      })

    return IdempotencyStore.of({
      claim: Effect.fn("IdempotencyStore.claim")(function* (userId, key, operation, hash, now) {
        if ((yield* insert(userId, key, operation, hash, now)).length > 0) {
          return { _tag: "Claimed" } as const
        }
        const answer = yield* read(userId, key, operation, hash, now)
        if (answer._tag === "Free") {
          // Forgotten: the key starts over.
          yield* sql`delete from idempotency_keys where user_id = ${userId} and key = ${key}`
          yield* insert(userId, key, operation, hash, now)
          return { _tag: "Claimed" } as const
        }
        return answer
      }, port),

      complete: Effect.fn("IdempotencyStore.complete")(function* (userId, key, response) {
        yield* sql`
          update idempotency_keys set response = ${JSON.stringify(response)}::jsonb
           where user_id = ${userId} and key = ${key}`
      }, port),

      lookup: Effect.fn("IdempotencyStore.lookup")(function* (userId, key, operation, hash, now) {
        return yield* read(userId, key, operation, hash, now)
      }, port),

      // The whole use case is the database transaction, so this is where a deadlock or a
      // serialization failure can be met by running it again; a failure of the effect rolls the
      // key back with the write.
      atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        transactionAtPort(sql)(effect) as Effect.Effect<A, E, R>,
    })
  }),
)
