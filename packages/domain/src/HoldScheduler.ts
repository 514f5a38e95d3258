import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { TransactionId } from "./Ids.ts"

/** Arranges for a pending transaction to be voided when its `expiresAt` passes. */
export class HoldScheduler extends Context.Service<
  HoldScheduler,
  {
    readonly schedule: (id: TransactionId, expiresAt: Date) => Effect.Effect<void>
    /** The same for many holds at once (a batch's), in one enqueue rather than one per hold. */
    readonly scheduleMany: (
      holds: ReadonlyArray<{ readonly id: TransactionId; readonly expiresAt: Date }>,
    ) => Effect.Effect<void>
  }
>()("@txn/domain/HoldScheduler") {}
