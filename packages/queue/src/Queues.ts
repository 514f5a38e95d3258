import { createHash } from "node:crypto"
import { TransactionId } from "@txn/domain"
import * as Schema from "effect/Schema"

/** The one contract between producers (API, relay) and consumers (worker): queue names and payloads. */
export const Queues = {
  holds: "holds",
  /**
   * One job per batch the relay hands over (history events or outbox rows), its id derived from
   * the batch's event ids; jobs of one event each, keyed by its id, from before batches, still run.
   */
  events: "events",
  /**
   * First attempts of a dispatched batch's deliveries, a job per batch of them (its id derived from
   * their ids); then one job per delivery (an event for one endpoint) that needs another attempt,
   * with the delivery's id as job id.
   */
  webhooks: "webhooks",
  /** One job per CSV export, with the export's id as job id. */
  exports: "exports",
  /** Scheduled housekeeping: reconciliation and purges. */
  maintenance: "maintenance",
} as const

export const JobNames = {
  /** Void one pending transaction when its `expiresAt` passes. */
  expireHold: "expire-hold",
  /** Safety net: void every hold already past due, in case a delayed job was never enqueued. */
  expireDueHolds: "expire-due-holds",
  /** Hand one event to what reacts to it: webhook deliveries, export builds. */
  dispatchEvent: "dispatch-event",
  /** Hand a batch of events to what reacts to them, set-based: a constant number of statements. */
  dispatchEvents: "dispatch-events",
  /** POST one event to one webhook endpoint, signed. */
  deliverWebhook: "deliver-webhook",
  /** The first attempt of several deliveries: claimed in one statement, POSTed together. */
  deliverWebhooks: "deliver-webhooks",
  /** Write one export's CSV. */
  buildExport: "build-export",
  /** Compare every stored balance with the sum of its postings. */
  reconcileBalances: "reconcile-balances",
  /** Delete what has outlived its retention: idempotency keys, exports, old events. */
  purgeExpired: "purge-expired",
} as const

export const ExpireHoldJob = Schema.Struct({ transactionId: TransactionId })
export type ExpireHoldJob = typeof ExpireHoldJob.Type

export const ExpireDueHoldsJob = Schema.Struct({})
export type ExpireDueHoldsJob = typeof ExpireDueHoldsJob.Type

const prefixedId = (prefix: string) =>
  Schema.String.check(Schema.isPattern(new RegExp(`^${prefix}_[0-9a-z]{26}$`)))

export const DispatchEventJob = Schema.Struct({ eventId: prefixedId("evt") })
export type DispatchEventJob = typeof DispatchEventJob.Type

export const DispatchEventsJob = Schema.Struct({
  eventIds: Schema.NonEmptyArray(prefixedId("evt")),
})
export type DispatchEventsJob = typeof DispatchEventsJob.Type

export const DeliverWebhookJob = Schema.Struct({ deliveryId: prefixedId("dlv") })
export type DeliverWebhookJob = typeof DeliverWebhookJob.Type

export const DeliverWebhooksJob = Schema.Struct({
  deliveryIds: Schema.NonEmptyArray(prefixedId("dlv")),
})
export type DeliverWebhooksJob = typeof DeliverWebhooksJob.Type

export const BuildExportJob = Schema.Struct({ exportId: prefixedId("exp") })
export type BuildExportJob = typeof BuildExportJob.Type

/** Job ids are derived from what they act on, so enqueuing the same work twice is a no-op. */
export const dispatchEventsJobId = (eventIds: ReadonlyArray<string>) =>
  `dispatch-${createHash("sha256").update(eventIds.join(",")).digest("hex").slice(0, 40)}`

export const deliverWebhooksJobId = (deliveryIds: ReadonlyArray<string>) =>
  `deliveries-${createHash("sha256").update(deliveryIds.join(",")).digest("hex").slice(0, 40)}`

export const expireHoldJobId = (transactionId: string) => `expire-hold-${transactionId}`
