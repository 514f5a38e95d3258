import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * The immutable history of every transaction: one event per change, written by the same
 * statement as the change. The change feed reads in (xid, seq) order and only below the oldest
 * running transaction, so a client syncing from a cursor never skips an event that commits late.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table transaction_events (
      seq bigint generated always as identity primary key,
      transaction_id text not null references transactions (id),
      user_id text not null references users (id),
      version integer not null check (version > 0),
      kind text not null check (kind in ('created', 'updated', 'posted', 'voided', 'expired', 'reversed')),
      actor text not null check (length(actor) between 1 and 100),
      changes jsonb not null check (jsonb_typeof(changes) = 'object'),
      at timestamptz not null,
      xid xid8 not null default pg_current_xact_id(),
      unique (transaction_id, version)
    )`
  yield* sql`create index transaction_events_feed_idx on transaction_events (user_id, xid, seq)`
  // Events may not be changed or removed once written.
  yield* sql`
    create function transaction_events_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'transaction_events are immutable';
    end $$`
  yield* sql`
    create trigger transaction_events_immutable before update or delete on transaction_events
      for each row execute function transaction_events_immutable()`
})
