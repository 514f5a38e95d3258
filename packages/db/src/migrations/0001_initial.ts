import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * The constraints repeat the domain's rules so the data stays valid even if application code is
 * wrong: amounts positive and exact in a JS number, known statuses, a transaction's currency and
 * owner equal to its account's (composite foreign key).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`create extension if not exists pg_trgm`
  yield* sql`
    create table users (
      id text primary key check (id ~ '^usr_[0-9a-z]{26}$'),
      name text not null check (length(name) between 1 and 200),
      created_at timestamptz not null default now()
    )`
  yield* sql`
    create table accounts (
      id text primary key check (id ~ '^acc_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      name text not null check (length(name) between 1 and 200),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      allow_negative boolean not null default false,
      metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (id, user_id, currency)
    )`
  yield* sql`create index accounts_user_created_idx on accounts (user_id, created_at desc, id desc)`
  yield* sql`
    create index accounts_user_currency_created_idx
      on accounts (user_id, currency, created_at desc, id desc)`
  yield* sql`
    create table transactions (
      id text primary key check (id ~ '^txn_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      account_id text not null,
      direction text not null check (direction in ('credit', 'debit')),
      amount bigint not null check (amount > 0 and amount <= 9007199254740991),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      status text not null check (status in ('pending', 'posted', 'voided', 'reversed')),
      description text check (length(description) <= 1000),
      category text check (length(category) <= 100),
      counterparty text check (length(counterparty) <= 200),
      reference text check (length(reference) <= 200),
      occurred_at timestamptz not null,
      expires_at timestamptz check (expires_at is null or status in ('pending', 'voided')),
      metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
      version integer not null default 1 check (version > 0),
      created_at timestamptz not null,
      updated_at timestamptz not null,
      search_text text generated always as (
        coalesce(description, '') || ' ' || coalesce(counterparty, '') || ' ' || coalesce(reference, '')
      ) stored,
      foreign key (account_id, user_id, currency) references accounts (id, user_id, currency)
    )`
  // Every list is ordered by (occurred_at, id) descending; each filter has an index in that order.
  yield* sql`create index transactions_user_occurred_idx on transactions (user_id, occurred_at desc, id desc)`
  yield* sql`create index transactions_account_occurred_idx on transactions (account_id, occurred_at desc, id desc)`
  yield* sql`create index transactions_user_status_occurred_idx on transactions (user_id, status, occurred_at desc, id desc)`
  yield* sql`create index transactions_user_direction_occurred_idx on transactions (user_id, direction, occurred_at desc, id desc)`
  yield* sql`create index transactions_user_category_occurred_idx on transactions (user_id, category, occurred_at desc, id desc)`
  yield* sql`create index transactions_user_amount_idx on transactions (user_id, amount)`
  yield* sql`create index transactions_search_idx on transactions using gin (search_text gin_trgm_ops)`
  yield* sql`
    create index transactions_pending_expiry_idx on transactions (expires_at)
      where status = 'pending' and expires_at is not null`
})
