import * as Effect from "effect/Effect"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as SqlClient from "effect/sql/SqlClient"
import { beforeDeadline, type Deadline, promiseBeforeDeadline } from "./deadline.ts"

/**
 * What `/readyz` checks: PostgreSQL answers a query and the queue its job counts, each by the
 * deadline; a query still waiting then is interrupted rather than left queueing for a connection.
 */
export const makeReadinessCheck =
  (parts: {
    readonly runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>
    readonly queue: { getJobCounts(type: "waiting"): Promise<unknown> }
  }) =>
  async (deadline: Deadline) => {
    await Promise.all([
      parts.runtime.runPromise(
        SqlClient.SqlClient.use((sql) => sql`select 1`).pipe(
          beforeDeadline(deadline, () => Effect.fail(new Error("database timed out"))),
        ),
      ),
      promiseBeforeDeadline(
        deadline,
        parts.queue.getJobCounts("waiting"),
        () => new Error("queue timed out"),
      ),
    ])
  }
