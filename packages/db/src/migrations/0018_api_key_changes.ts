import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Every change that can stop an API key working is announced on the `api_key_changes` channel,
 * with the key's id (`*` for all keys), whoever makes it: the API, the CLI, or SQL typed by hand.
 * API processes cache keys they have checked and drop them when they hear of a change. The
 * notification goes out when the change commits, and not at all if it rolls back. A change of
 * `last_used_at` alone says nothing: it cannot stop a key. (A user cannot be deleted while their
 * keys exist, and has no state that stops their keys; a column added here that can stop a key
 * belongs in the trigger's condition.)
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create function txn_notify_api_key_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('api_key_changes', case when tg_op = 'TRUNCATE' then '*' else old.id end);
      return null;
    end
    $$`
  yield* sql`
    create trigger api_keys_changed after update on api_keys for each row
      when (row(old.id, old.user_id, old.secret_hash, old.scopes, old.revoked_at)
            is distinct from row(new.id, new.user_id, new.secret_hash, new.scopes, new.revoked_at))
      execute function txn_notify_api_key_change()`
  yield* sql`
    create trigger api_keys_deleted after delete on api_keys for each row
      execute function txn_notify_api_key_change()`
  yield* sql`
    create trigger api_keys_truncated after truncate on api_keys for each statement
      execute function txn_notify_api_key_change()`
})
