import type { ManagedRuntime } from "effect"
import { SqlClient } from "effect/sql"

const withTimeout = <A>(promise: Promise<A>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref(),
    ),
  ])

/** What `/readyz` checks: PostgreSQL answers a query and the queue its job counts. */
export const makeReadinessCheck =
  (parts: {
    readonly runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>
    readonly queue: { getJobCounts(type: "waiting"): Promise<unknown> }
  }) =>
  async () => {
    await Promise.all([
      withTimeout(
        parts.runtime.runPromise(SqlClient.SqlClient.use((sql) => sql`select 1`)),
        2000,
        "database",
      ),
      withTimeout(parts.queue.getJobCounts("waiting"), 2000, "queue"),
    ])
  }
