import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Reversals: a posted transaction is reversed by a new posted one, linked both ways. A transaction
 * is `reversed` exactly when it names its reversal; a reversal is never itself reversed, and a
 * transaction has at most one.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    alter table transactions
      add column reversal_of text references transactions (id),
      add column reversed_by text references transactions (id),
      add constraint transactions_reversed_check check ((reversed_by is not null) = (status = 'reversed')),
      add constraint transactions_reversal_check
        check (reversal_of is null or (status = 'posted' and reversal_of <> id))`
  yield* sql`
    create unique index transactions_reversal_of_key on transactions (reversal_of)
      where reversal_of is not null`
})
