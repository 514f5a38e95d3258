import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Bounds that keep every balance figure the API shows within ±(2^53-1), an exact JavaScript
 * number: each column is bounded already, and `pending` (posted + pending credits - pending debits)
 * and `available` (posted - pending debits) are bounded by these two, whatever later happens to the
 * holds, so posting, voiding or expiring one never passes a limit. Writes check the same bounds
 * first and answer BalanceLimitExceeded; these are the last guard. They are validated against
 * existing rows: an account already beyond them (possible before this migration) stops it, to be
 * settled by hand, since figures beyond the limit could not be shown exactly anyway.
 *
 * Reconciliation records sums of an account's postings, which no bound holds when they disagree
 * with the stored balance (what reconciliation exists to find), so those become numeric.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    alter table accounts
      add constraint accounts_balance_upper_limit_check
        check (posted_balance + pending_credits <= 9007199254740991),
      add constraint accounts_balance_lower_limit_check
        check (posted_balance - pending_debits >= -9007199254740991)`
  yield* sql`
    alter table reconciliation_mismatches
      alter column from_transactions type numeric,
      alter column from_ledger type numeric`
})
