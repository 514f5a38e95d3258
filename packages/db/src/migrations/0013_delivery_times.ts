import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Deliveries were stamped with now(), to the microsecond, while answers and list cursors carry
 * milliseconds: a cursor then fell between two deliveries of one millisecond and the next page
 * skipped them. New ones are stamped to the millisecond; this brings the older ones in line.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    update webhook_deliveries set created_at = date_trunc('milliseconds', created_at)
     where created_at <> date_trunc('milliseconds', created_at)`
})
