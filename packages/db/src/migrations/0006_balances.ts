import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Balances on the account row, changed in the same database transaction as every posting, each
 * change also kept in `ledger_entries` (balances as of a past time are sums over those). Existing
 * rows are carried over. The check on `accounts` is the last guard against spending what is not
 * there; it is not validated against rows from before it (NOT VALID), only enforced from now on.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    alter table accounts
      add column posted_balance bigint not null default 0
        check (posted_balance between -9007199254740991 and 9007199254740991),
      add column pending_credits bigint not null default 0
        check (pending_credits between 0 and 9007199254740991),
      add column pending_debits bigint not null default 0
        check (pending_debits between 0 and 9007199254740991)`
  yield* sql`
    create table ledger_entries (
      id bigint generated always as identity primary key,
      account_id text not null references accounts (id),
      transaction_id text not null references transactions (id),
      posted_delta bigint not null,
      pending_credits_delta bigint not null,
      pending_debits_delta bigint not null,
      recorded_at timestamptz not null
    )`
  yield* sql`create index ledger_entries_account_time_idx on ledger_entries (account_id, recorded_at, id)`
  // Carry over what is already there: one entry per transaction that counts, at its last change.
  yield* sql`
    insert into ledger_entries
      (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
    select account_id, id,
           case when status in ('posted', 'reversed')
                then case direction when 'credit' then amount else -amount end else 0 end,
           case when status = 'pending' and direction = 'credit' then amount else 0 end,
           case when status = 'pending' and direction = 'debit' then amount else 0 end,
           updated_at
      from transactions
     where status in ('posted', 'reversed', 'pending')`
  yield* sql`
    update accounts a
       set posted_balance = e.posted, pending_credits = e.credits, pending_debits = e.debits
      from (select account_id, sum(posted_delta) as posted, sum(pending_credits_delta) as credits,
                   sum(pending_debits_delta) as debits
              from ledger_entries group by account_id) e
     where a.id = e.account_id`
  yield* sql`
    alter table accounts add constraint accounts_available_check
      check (allow_negative or posted_balance - pending_debits >= 0) not valid`
})
