import { deliverWebhooksJobId } from "@txn/queue"
import type { BackoffStrategy, JobsOptions } from "bullmq"
import type { BackgroundSettings } from "./settings.ts"

/** Finished jobs are kept a while for inspection; the database keeps the lasting record. */
const retention = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } }

export const eventJobOptions: JobsOptions = {
  ...retention,
  attempts: 10,
  backoff: { type: "exponential", delay: 1_000 },
}

/** A delivery attempt that failed with attempts left, and when the delivery log says to try again. */
export class DeliveryFailed extends Error {
  override readonly name = "DeliveryFailed"
  readonly nextAttemptAt: Date
  constructor(message: string, nextAttemptAt: Date) {
    super(message)
    this.nextAttemptAt = nextAttemptAt
  }
}

/** The backoff of delivery jobs: the delivery log's time, never a schedule of BullMQ's own. */
export const deliveryBackoff = "delivery-log"

/** How long a failed job of anything but a delivery attempt waits: 1 s, doubling, at most 5 min. */
const infrastructureRetryMs = (attemptsMade: number) =>
  Math.min(300_000, 1_000 * 2 ** Math.max(0, attemptsMade - 1))

/**
 * The workers' backoff for `deliveryBackoff`: a failed attempt's job waits until the next attempt
 * the delivery log recorded (`DeliveryFailed.nextAttemptAt`, from `retryDelayMs`), so the log
 * owns the schedule and BullMQ follows it. A job that failed otherwise (the database down before
 * the attempt was recorded) retries after `infrastructureRetryMs`.
 */
export const backoffStrategy: BackoffStrategy = (attemptsMade, _type, error) =>
  error instanceof DeliveryFailed
    ? Math.max(0, error.nextAttemptAt.getTime() - Date.now())
    : infrastructureRetryMs(attemptsMade)

/**
 * A delivery's job, keyed by the delivery's id, for a delivery that has had `attemptsMade`
 * attempts already: as many tries as attempts are left, each after the time the delivery log
 * gives (`backoffStrategy`).
 */
export const deliveryJobOptions = (
  settings: BackgroundSettings,
  deliveryId: string,
  attemptsMade = 0,
): JobsOptions => ({
  ...retention,
  jobId: deliveryId,
  attempts: Math.max(1, settings.webhookAttempts - attemptsMade),
  backoff: { type: deliveryBackoff },
})

/** A job of several deliveries' first attempts, keyed by their ids. */
export const deliveriesJobOptions = (deliveryIds: ReadonlyArray<string>): JobsOptions => ({
  ...retention,
  jobId: deliverWebhooksJobId(deliveryIds),
  attempts: 10,
  backoff: { type: "exponential", delay: 1_000 },
})

export const exportJobOptions = (exportId: string): JobsOptions => ({
  ...retention,
  jobId: exportId,
  attempts: 5,
  backoff: { type: "exponential", delay: 5_000 },
})
