import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * The outbox: one row per change, written by triggers in the same database transaction as the
 * change itself, so an event exists exactly when its change committed. The worker's relay hands
 * rows to the queues; `relayed_at` says when it last did, `dispatched_at` when the event's job
 * finished (a queue that lost its jobs is refilled from rows still undispatched).
 *
 * The JSON of each object matches the API's: camelCase fields, ISO 8601 UTC timestamps with
 * milliseconds, amounts as numbers.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create function txn_iso(ts timestamptz) returns text language sql stable as $$
      select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    $$`
  // 26 lower-case hex characters: 104 bits of a hashed random UUID, cheap enough for every event.
  yield* sql`
    create function txn_random_id(prefix text) returns text language sql volatile as $$
      select prefix || '_' || left(md5(gen_random_uuid()::text), 26)
    $$`
  yield* sql`
    create function txn_transaction_json(t transactions) returns jsonb language sql stable as $$
      select jsonb_build_object(
        'id', t.id, 'accountId', t.account_id, 'userId', t.user_id, 'direction', t.direction,
        'amount', t.amount, 'currency', t.currency, 'status', t.status,
        'description', t.description, 'category', t.category, 'counterparty', t.counterparty,
        'reference', t.reference, 'occurredAt', txn_iso(t.occurred_at),
        'expiresAt', txn_iso(t.expires_at), 'metadata', t.metadata, 'version', t.version,
        'reversalOf', t.reversal_of, 'reversedBy', t.reversed_by, 'transferId', t.transfer_id,
        'createdAt', txn_iso(t.created_at), 'updatedAt', txn_iso(t.updated_at))
    $$`
  yield* sql`
    create function txn_account_json(a accounts) returns jsonb language sql stable as $$
      select jsonb_build_object(
        'id', a.id, 'userId', a.user_id, 'name', a.name, 'currency', a.currency,
        'allowNegative', a.allow_negative, 'metadata', a.metadata,
        'createdAt', txn_iso(a.created_at), 'updatedAt', txn_iso(a.updated_at))
    $$`
  yield* sql`
    create function txn_transfer_json(t transfers) returns jsonb language sql stable as $$
      select jsonb_build_object(
        'id', t.id, 'userId', t.user_id, 'fromAccountId', t.from_account_id,
        'toAccountId', t.to_account_id, 'amount', t.amount, 'currency', t.currency,
        'description', t.description, 'debitTransactionId', t.debit_transaction_id,
        'creditTransactionId', t.credit_transaction_id, 'createdAt', txn_iso(t.created_at))
    $$`
  yield* sql`
    create table outbox (
      seq bigint generated always as identity primary key,
      id text not null unique check (id ~ '^evt_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      type text not null check (type ~ '^[a-z]+\\.[a-z]+$'),
      data jsonb not null check (jsonb_typeof(data) = 'object'),
      created_at timestamptz not null,
      relayed_at timestamptz,
      dispatched_at timestamptz
    )`
  yield* sql`create index outbox_unrelayed_idx on outbox (seq) where relayed_at is null`
  yield* sql`
    create index outbox_undispatched_idx on outbox (relayed_at)
      where relayed_at is not null and dispatched_at is null`
  yield* sql`create index outbox_created_idx on outbox (created_at)`
  yield* sql`
    create function txn_outbox_add(user_id text, type text, data jsonb, at timestamptz)
      returns void language plpgsql as $$
    begin
      insert into outbox (id, user_id, type, data, created_at)
      values (txn_random_id('evt'), user_id, type, data, at);
      perform pg_notify('txn_outbox', '');
    end $$`
  // Every transaction change already writes a history event; its outbox event follows from it.
  // Once per statement, set-based, so a statement writing many events costs one insert. An AFTER
  // trigger runs once the whole statement is done, so it reads the changed rows.
  yield* sql`
    create function txn_transaction_events_outbox() returns trigger language plpgsql as $$
    begin
      insert into outbox (id, user_id, type, data, created_at)
      select txn_random_id('evt'), e.user_id, 'transaction.' || e.kind,
             jsonb_build_object('transaction', txn_transaction_json(t), 'changes', e.changes), e.at
        from new_events e join transactions t on t.id = e.transaction_id
       order by e.seq;
      if found then
        perform pg_notify('txn_outbox', '');
      end if;
      return null;
    end $$`
  yield* sql`
    create trigger transaction_events_outbox after insert on transaction_events
      referencing new table as new_events
      for each statement execute function txn_transaction_events_outbox()`
  // Balance columns change with every posting; only the account's own fields make an event.
  yield* sql`
    create function txn_account_outbox() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        perform txn_outbox_add(new.user_id, 'account.created',
          jsonb_build_object('account', txn_account_json(new)), new.created_at);
      elsif (new.name, new.allow_negative, new.metadata)
              is distinct from (old.name, old.allow_negative, old.metadata) then
        perform txn_outbox_add(new.user_id, 'account.updated',
          jsonb_build_object('account', txn_account_json(new)), new.updated_at);
      end if;
      return null;
    end $$`
  yield* sql`
    create trigger accounts_outbox after insert or update of name, allow_negative, metadata
      on accounts for each row execute function txn_account_outbox()`
  yield* sql`
    create function txn_transfer_outbox() returns trigger language plpgsql as $$
    begin
      perform txn_outbox_add(new.user_id, 'transfer.created',
        jsonb_build_object('transfer', txn_transfer_json(new)), new.created_at);
      return null;
    end $$`
  yield* sql`
    create trigger transfers_outbox after insert on transfers
      for each row execute function txn_transfer_outbox()`
})
