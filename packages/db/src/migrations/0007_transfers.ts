import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * A transfer: a debit and a credit between two accounts of one user and currency, each naming
 * the transfer, which names both.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table transfers (
      id text primary key check (id ~ '^trf_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      from_account_id text not null references accounts (id),
      to_account_id text not null references accounts (id),
      amount bigint not null check (amount > 0 and amount <= 9007199254740991),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      description text check (length(description) <= 1000),
      debit_transaction_id text not null unique references transactions (id),
      credit_transaction_id text not null unique references transactions (id),
      created_at timestamptz not null,
      check (from_account_id <> to_account_id)
    )`
  yield* sql`create index transfers_user_created_idx on transfers (user_id, created_at desc, id desc)`
  // Deferred: the legs are written before the transfer that names them, in one transaction.
  yield* sql`
    alter table transactions
      add column transfer_id text references transfers (id) deferrable initially deferred`
})
