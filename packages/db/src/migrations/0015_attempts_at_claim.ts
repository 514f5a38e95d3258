import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * An attempt is logged when it starts, before its request is sent, so one whose worker died
 * still counts. Until its outcome is recorded it has no duration; one that never gets an outcome
 * keeps none.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`alter table webhook_attempts alter column duration_ms drop not null`
})
