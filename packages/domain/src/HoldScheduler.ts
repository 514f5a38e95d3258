import { Context, type Effect } from "effect"
import type { TransactionId } from "./Ids.ts"

/** Arranges for a pending transaction to be voided when its `expiresAt` passes. */
export class HoldScheduler extends Context.Service<
  HoldScheduler,
  { readonly schedule: (id: TransactionId, expiresAt: Date) => Effect.Effect<void> }
>()("@txn/domain/HoldScheduler") {}
