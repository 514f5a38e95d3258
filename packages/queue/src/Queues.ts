import { createHash } from "node:crypto"
import { TransactionId } from "@txn/domain"
import { UnrecoverableError } from "bullmq"
import * as Result from "effect/Result"
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

/** The payload of a job that acts on whatever is due, not on one record. */
const NoPayload = Schema.Struct({})

/**
 * Every queue's jobs and each job's payload: what a producer may add to a queue (`JobQueue`'s
 * methods take nothing else) and what its consumer decodes (`decodeJob`) before running it.
 */
export const Jobs = {
  holds: { [JobNames.expireHold]: ExpireHoldJob, [JobNames.expireDueHolds]: NoPayload },
  events: {
    [JobNames.dispatchEvent]: DispatchEventJob,
    [JobNames.dispatchEvents]: DispatchEventsJob,
  },
  webhooks: {
    [JobNames.deliverWebhook]: DeliverWebhookJob,
    [JobNames.deliverWebhooks]: DeliverWebhooksJob,
  },
  exports: { [JobNames.buildExport]: BuildExportJob },
  maintenance: { [JobNames.reconcileBalances]: NoPayload, [JobNames.purgeExpired]: NoPayload },
} as const satisfies Record<
  (typeof Queues)[keyof typeof Queues],
  Record<string, Schema.Top & { readonly DecodingServices: never }>
>

export type QueueName = keyof typeof Jobs
export type JobName<Q extends QueueName> = keyof (typeof Jobs)[Q] & string
type JobSchema<Q extends QueueName, N extends JobName<Q>> = (typeof Jobs)[Q][N] & Schema.Top
/** A job's payload as a producer adds it. */
export type JobData<Q extends QueueName, N extends JobName<Q>> = JobSchema<Q, N>["Encoded"]
/** A job's payload as its consumer gets it, decoded. */
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobSchema<Q, N>["Type"]

// One decoder per schema, made on first use rather than once per job.
const decoders = new Map<Schema.Top, (input: unknown) => Result.Result<unknown, Error>>()

/**
 * A job's payload as the contract says, or a failure that is not retried: retrying cannot fix
 * a payload the queue's contract does not know.
 */
export const decodeJob = <Q extends QueueName, N extends JobName<Q>>(
  queue: Q,
  name: N,
  data: unknown,
): JobPayload<Q, N> => {
  const schema = (Jobs[queue] as Record<string, Schema.Top>)[name]
  if (schema === undefined) throw new UnrecoverableError(`Unknown job ${name} on ${queue}`)
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownResult(schema as never) as (
      input: unknown,
    ) => Result.Result<unknown, Error>
    decoders.set(schema, decode)
  }
  const payload = decode(data)
  if (Result.isFailure(payload)) {
    throw new UnrecoverableError(`Malformed ${name} payload: ${payload.failure.message}`)
  }
  return payload.success as JobPayload<Q, N>
}

/** Job ids are derived from what they act on, so enqueuing the same work twice is a no-op. */
export const dispatchEventsJobId = (eventIds: ReadonlyArray<string>) =>
  `dispatch-${createHash("sha256").update(eventIds.join(",")).digest("hex").slice(0, 40)}`

export const deliverWebhooksJobId = (deliveryIds: ReadonlyArray<string>) =>
  `deliveries-${createHash("sha256").update(deliveryIds.join(",")).digest("hex").slice(0, 40)}`

export const expireHoldJobId = (transactionId: string) => `expire-hold-${transactionId}`
