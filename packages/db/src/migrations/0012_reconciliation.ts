import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/** Each nightly reconciliation run, and every balance it found different from its postings. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table reconciliation_runs (
      id bigint generated always as identity primary key,
      started_at timestamptz not null,
      finished_at timestamptz not null,
      accounts_checked integer not null,
      mismatches integer not null
    )`
  yield* sql`
    create table reconciliation_mismatches (
      run_id bigint not null references reconciliation_runs (id) on delete cascade,
      account_id text not null references accounts (id),
      field text not null check (field in ('posted', 'pendingCredits', 'pendingDebits')),
      stored bigint not null,
      from_transactions bigint not null,
      from_ledger bigint not null,
      primary key (run_id, account_id, field)
    )`
})
