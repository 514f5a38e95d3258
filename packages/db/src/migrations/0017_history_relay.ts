import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Transaction events reach the queues from the history itself, no longer through a second copy
 * in the outbox: a change writes its history event and nothing else. The relay follows
 * `transaction_events` in (xid, seq) order below the oldest running transaction, as the change
 * feed does, from a stored position. An event's id is derived from its sequence number, and its
 * payload is folded from the history, so it is the transaction as it stood right after that
 * change, exactly as the outbox row used to carry it.
 *
 * No trigger notifies any more: NOTIFY takes a database-wide lock at commit and serializes every
 * writer. The relay polls instead, briefly while there is work and less often when idle.
 *
 * Accounts, transfers and exports, which change rarely, keep their outbox rows; the outbox rows
 * written before this migration keep being relayed from the outbox as before.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  // Writers wait for this transaction; every event committed before it has its outbox row.
  yield* sql`lock table transaction_events in exclusive mode`
  yield* sql`drop trigger transaction_events_outbox on transaction_events`
  yield* sql`drop function txn_transaction_events_outbox()`
  yield* sql`
    create or replace function txn_outbox_add(user_id text, type text, data jsonb, at timestamptz)
      returns void language plpgsql as $$
    begin
      insert into outbox (id, user_id, type, data, created_at)
      values (txn_random_id('evt'), user_id, type, data, at);
    end $$`

  // `evt_t` and 25 base-36 digits of the sequence number: fixed width, so ids sort as the numbers
  // do, and never one of the outbox's ids, whose 26 characters are hexadecimal.
  yield* sql`
    create function txn_event_id(seq bigint) returns text language plpgsql immutable strict as $$
    declare
      digits text := '';
      n bigint := seq;
    begin
      loop
        digits := substr('0123456789abcdefghijklmnopqrstuvwxyz', (n % 36)::int + 1, 1) || digits;
        n := n / 36;
        exit when n = 0;
      end loop;
      return 'evt_t' || lpad(digits, 25, '0');
    end $$`
  // The sequence number behind a history event's id; null for any other id.
  yield* sql`
    create function txn_event_seq(id text) returns bigint language plpgsql immutable strict as $$
    declare
      n numeric := 0;
      c text;
    begin
      if id !~ '^evt_t[0-9a-z]{25}$' then
        return null;
      end if;
      foreach c in array regexp_split_to_array(substr(id, 6), '') loop
        n := n * 36 + (strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1);
      end loop;
      if n > 9223372036854775807 then
        return null;
      end if;
      return n::bigint;
    end $$`
  // The transaction right after its change `version`: the created event carries every field,
  // each later one the fields it changed, its version and (as `at`) its update time.
  yield* sql`
    create function txn_transaction_json_at(transaction_id text, version integer)
      returns jsonb language sql stable as $$
      select jsonb_object_agg(f.key, f.value order by f.version, f.ord)
        from (
          select e.version, 0 as ord, c.key, c.value -> 'to' as value
            from transaction_events e, jsonb_each(e.changes) c
           where e.transaction_id = $1 and e.version <= $2
          union all
          select e.version, 1, s.key, s.value
            from transaction_events e,
                 lateral (values ('version', to_jsonb(e.version)),
                                 ('updatedAt', to_jsonb(txn_iso(e.at)))) s(key, value)
           where e.transaction_id = $1 and e.version <= $2 and e.version > 1
        ) f
    $$`
  yield* sql`
    create function txn_transaction_event_data(e transaction_events) returns jsonb
      language sql stable as $$
      select jsonb_build_object(
        'transaction', txn_transaction_json_at(e.transaction_id, e.version),
        'changes', e.changes)
    $$`
  // One event by id, wherever it lives.
  yield* sql`
    create function txn_event(event_id text)
      returns table (id text, user_id text, type text, data jsonb, created_at timestamptz)
      language sql stable as $$
      select o.id, o.user_id, o.type, o.data, o.created_at from outbox o where o.id = event_id
      union all
      select event_id, e.user_id, 'transaction.' || e.kind, txn_transaction_event_data(e), e.at
        from transaction_events e where e.seq = txn_event_seq(event_id)
    $$`
  yield* sql`
    create function txn_event_type(event_id text) returns text language sql stable as $$
      select coalesce(
        (select o.type from outbox o where o.id = event_id),
        (select 'transaction.' || e.kind from transaction_events e
          where e.seq = txn_event_seq(event_id)))
    $$`
  // Every event as webhooks see it, for reading (lookups by id go through txn_event).
  yield* sql`
    create view events as
      select id, user_id, type, data, created_at from outbox
      union all
      select txn_event_id(e.seq), e.user_id, 'transaction.' || e.kind,
             txn_transaction_event_data(e), e.at
        from transaction_events e`

  yield* sql`create index transaction_events_relay_idx on transaction_events (xid, seq)`
  // How far the relay has followed the history. Events at or below `from_seq` were written
  // before this migration and are relayed from their outbox rows. The position starts at the
  // oldest transaction still running: any event yet to commit has an xid at or above it.
  yield* sql`
    create table relay_positions (
      stream text primary key,
      xid xid8 not null,
      seq bigint not null,
      from_seq bigint not null,
      updated_at timestamptz not null
    )`
  yield* sql`
    insert into relay_positions (stream, xid, seq, from_seq, updated_at)
    select 'transaction_events', pg_snapshot_xmin(pg_current_snapshot()), 0,
           coalesce(max(seq), 0), now()
      from transaction_events`
  // History events handed to the queues whose dispatch has not finished; the dispatch removes
  // its row. One left behind past the relay's patience means a queue lost the job.
  yield* sql`
    create table relayed_events (
      seq bigint primary key,
      relayed_at timestamptz not null
    )`
  yield* sql`create index relayed_events_relayed_idx on relayed_events (relayed_at)`

  // Deliveries now name history events too, which are not outbox rows.
  yield* sql`alter table webhook_deliveries drop constraint webhook_deliveries_event_id_fkey`
  yield* sql`create index webhook_deliveries_created_idx on webhook_deliveries (created_at)`
})
