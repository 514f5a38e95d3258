import type { PgClient } from "@effect/sql-pg"
import type { Transactions } from "@txn/domain"
import type { ManagedRuntime } from "effect"
import type { SqlClient } from "effect/sql"

/** The use cases and the database client the worker's jobs run on. */
export type WorkerRuntime = ManagedRuntime.ManagedRuntime<
  Transactions | SqlClient.SqlClient | PgClient.PgClient,
  never
>
