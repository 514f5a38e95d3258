/**
 * The event types and the headers of a webhook delivery, as the worker sends them and
 * `verifyWebhook` (in @txn/client) and the dashboard read them. Without imports, so the client bundles it without the rest of the domain. The body's
 * shape is the client's `WebhookEvent`, which the worker's tests verify every delivery against.
 */

/** The headers of every delivery (lower case, as Node hands them to a receiver). */
export const webhookHeaders = {
  /** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>`. */
  signature: "txn-signature",
  /** The event's id: the same on every attempt, so a receiver can drop duplicates. */
  eventId: "txn-event-id",
  eventType: "txn-event-type",
  deliveryId: "txn-delivery-id",
  /** 1 for the first attempt, counting every try. */
  attempt: "txn-delivery-attempt",
} as const

/** Every event a change can produce; webhooks subscribe to some of them, or to `*`. */
export const eventTypes = [
  "account.created",
  "account.updated",
  "transaction.created",
  "transaction.updated",
  "transaction.posted",
  "transaction.voided",
  "transaction.expired",
  "transaction.reversed",
  "transfer.created",
  "export.created",
  "export.completed",
  "export.failed",
] as const
