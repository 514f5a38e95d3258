import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/** API keys: only the SHA-256 of each secret is stored, unique, so a key is found by its hash. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table api_keys (
      id text primary key check (id ~ '^key_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      name text not null check (length(name) between 1 and 200),
      secret_hash text not null unique check (secret_hash ~ '^[0-9a-f]{64}$'),
      scopes text[] not null check (
        cardinality(scopes) between 1 and 2 and scopes <@ array['read', 'write']::text[]
        and (cardinality(scopes) = 1 or scopes[1] <> scopes[2])
      ),
      created_at timestamptz not null,
      last_used_at timestamptz,
      revoked_at timestamptz
    )`
  yield* sql`create index api_keys_user_created_idx on api_keys (user_id, created_at desc, id desc)`
})
