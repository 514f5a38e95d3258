import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * An account's transactions by status (its pending holds) and by category. Without these, such a
 * page reads one filter's index in order and skips the other filter's misses, or intersects both
 * ranges and sorts: the rows read grow with the table. Measured with `npm run seed` at a million
 * rows, a page of one account's pending holds read 862 rows, its rare category 872 (51 and 25 with
 * these). Each index costs every insert, so combinations that an ordered walk serves within a few
 * rows per row returned get none: a direction (one of two values), and a time range or cursor,
 * which every list index serves after its equality columns.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create index transactions_account_status_occurred_idx
      on transactions (account_id, status, occurred_at desc, id desc)`
  yield* sql`
    create index transactions_account_category_occurred_idx
      on transactions (account_id, category, occurred_at desc, id desc)`
})
