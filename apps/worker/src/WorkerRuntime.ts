import type { Transactions } from "@txn/domain"
import type { ManagedRuntime } from "effect"

export type WorkerRuntime = ManagedRuntime.ManagedRuntime<Transactions, never>
