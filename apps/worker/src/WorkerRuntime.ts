import type { PgClient } from "@effect/sql-pg"
import type { Transactions } from "@txn/domain"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import type * as SqlClient from "effect/sql/SqlClient"

/** The use cases and the database client the worker's jobs run on. */
export type WorkerRuntime = ManagedRuntime.ManagedRuntime<
  Transactions | SqlClient.SqlClient | PgClient.PgClient,
  never
>
