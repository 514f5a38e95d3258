import { TransactionId } from "@txn/domain"
import { Schema } from "effect"

/** The one contract between producers (API) and consumers (worker): queue names and payloads. */
export const Queues = {
  holds: "holds",
} as const

export const JobNames = {
  /** Void one pending transaction when its `expiresAt` passes. */
  expireHold: "expire-hold",
  /** Safety net: void every hold already past due, in case a delayed job was never enqueued. */
  expireDueHolds: "expire-due-holds",
} as const

export const ExpireHoldJob = Schema.Struct({ transactionId: TransactionId })
export type ExpireHoldJob = typeof ExpireHoldJob.Type

export const ExpireDueHoldsJob = Schema.Struct({})
export type ExpireDueHoldsJob = typeof ExpireDueHoldsJob.Type

/** Job ids are derived from what they act on, so enqueuing the same work twice is a no-op. */
export const expireHoldJobId = (transactionId: string) => `expire-hold-${transactionId}`
