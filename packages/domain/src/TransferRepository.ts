import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { BalanceLimitExceeded, InsufficientFunds } from "./Errors.ts"
import type { TransferId, UserId } from "./Ids.ts"
import type { Transaction } from "./Transaction.ts"
import type { Transfer } from "./Transfer.ts"

/** Storage of transfers; every read is scoped to the owning user. */
export class TransferRepository extends Context.Service<
  TransferRepository,
  {
    /**
     * Records the transfer, its debit and its credit (with their balance changes) atomically;
     * a source that cannot cover it (and may not go negative) fails with InsufficientFunds, and
     * a leg that would take a balance figure past ±2^53-1 with BalanceLimitExceeded.
     */
    readonly insert: (
      transfer: Transfer,
      debit: Transaction,
      credit: Transaction,
    ) => Effect.Effect<Transfer, InsufficientFunds | BalanceLimitExceeded>
    readonly findById: (userId: UserId, id: TransferId) => Effect.Effect<Option.Option<Transfer>>
  }
>()("@txn/domain/TransferRepository") {}
