import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Less work per inserted transaction, with the same guarantees:
 * - `transactions.user_id` no longer has a foreign key of its own: the row's
 *   `(account_id, user_id, currency)` references `accounts (id, user_id, currency)`, and
 *   `accounts.user_id` references `users`, so the user exists whenever the account does. The
 *   second check, one index lookup and row lock per row, guarded nothing more.
 * - The uniqueness of `reversal_of` (a transaction is reversed at most once) is kept by a partial
 *   unique index over the rows that name one: rows without (nearly all) no longer get an entry.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table transactions drop constraint transactions_user_id_fkey`
  yield* sql`drop index transactions_reversal_of_key`
  yield* sql`
    create unique index transactions_reversal_of_key on transactions (reversal_of)
      where reversal_of is not null`
})
