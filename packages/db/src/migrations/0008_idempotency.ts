import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Idempotency keys, written in the same database transaction as the create they guard: a second
 * request with the same key waits on the first one's row, then replays its stored answer.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table idempotency_keys (
      user_id text not null references users (id),
      key text not null check (length(key) between 1 and 255),
      operation text not null,
      request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
      response jsonb,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      primary key (user_id, key)
    )`
  yield* sql`create index idempotency_keys_expires_idx on idempotency_keys (expires_at)`
})
