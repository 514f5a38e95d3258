import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

export interface Mismatch {
  readonly accountId: string
  readonly userId: string
  readonly field: "posted" | "pendingCredits" | "pendingDebits"
  readonly stored: string
  readonly fromTransactions: string
  readonly fromLedger: string
}

export interface Reconciliation {
  readonly runId: number
  readonly accountsChecked: number
  readonly mismatches: ReadonlyArray<Mismatch>
}

export interface Purged {
  readonly idempotencyKeys: number
  readonly exports: number
  /** Outbox events. */
  readonly events: number
  readonly deliveries: number
  /** Client tokens a day past their expiry (refused since it, kept a while to explain a 401). */
  readonly clientTokens: number
}

/** The scheduled upkeep of the stored data. */
export class Maintenance extends Context.Service<
  Maintenance,
  {
    /**
     * Compares every account's stored balances with the sums of its transactions and of its
     * ledger entries, in one snapshot, and records the run and each mismatch.
     */
    readonly reconcileBalances: Effect.Effect<Reconciliation>
    /** Deletes what is past its retention; the transactions' history stays. */
    readonly purgeExpired: Effect.Effect<Purged>
  }
>()("@txn/domain/Maintenance") {}
