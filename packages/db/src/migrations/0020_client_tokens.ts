import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Client tokens: short-lived credentials a server mints with a secret API key for a browser.
 * Only the SHA-256 of each secret is stored, unique, so a token is found by its hash. A token
 * lives until `expires_at` or until its key is revoked, whichever comes first: authentication
 * joins the key, and a key's revocation already announces the key's id on `api_key_changes`
 * (migration 0018), which drops the key's tokens from every process's cache too. `account_ids`
 * null reaches all of the user's accounts.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table client_tokens (
      id text primary key check (id ~ '^ctk_[0-9a-z]{26}$'),
      api_key_id text not null references api_keys (id),
      user_id text not null references users (id),
      secret_hash text not null unique check (secret_hash ~ '^[0-9a-f]{64}$'),
      scopes text[] not null check (
        cardinality(scopes) between 1 and 2 and scopes <@ array['read', 'write']::text[]
        and (cardinality(scopes) = 1 or scopes[1] <> scopes[2])
      ),
      account_ids text[] check (cardinality(account_ids) between 1 and 100),
      expires_at timestamptz not null,
      created_at timestamptz not null,
      check (expires_at > created_at and expires_at <= created_at + interval '1 hour')
    )`
  yield* sql`create index client_tokens_api_key_idx on client_tokens (api_key_id)`
  yield* sql`create index client_tokens_expires_idx on client_tokens (expires_at)`
})
