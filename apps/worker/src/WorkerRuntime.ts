import type { Deliveries, ExportBuilder, Maintenance, Outbox, Transactions } from "@txn/domain"
import type * as ManagedRuntime from "effect/ManagedRuntime"

/** The use cases and the services the worker's jobs run on. */
export type WorkerRuntime = ManagedRuntime.ManagedRuntime<
  Transactions | Outbox | Deliveries | ExportBuilder | Maintenance,
  never
>
