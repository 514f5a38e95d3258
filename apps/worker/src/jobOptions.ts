import { deliverWebhooksJobId } from "@txn/queue"
import type { JobsOptions } from "bullmq"
import type { BackgroundSettings } from "./settings.ts"

/** Finished jobs are kept a while for inspection; the database keeps the lasting record. */
const retention = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } }

export const eventJobOptions: JobsOptions = {
  ...retention,
  attempts: 10,
  backoff: { type: "exponential", delay: 1_000 },
}

/**
 * A delivery's job, keyed by the delivery's id, for a delivery that has had `attemptsMade`
 * attempts already. BullMQ's exponential backoff waits `delay * 2^(n-1)` after the job's n-th
 * failure, which is the delivery's `attemptsMade + n`-th attempt: with `delay` at
 * `webhookBackoffMs * 2^attemptsMade` that is `retryDelayMs` of that attempt, the time the
 * delivery log gives as its next attempt.
 */
export const deliveryJobOptions = (
  settings: BackgroundSettings,
  deliveryId: string,
  attemptsMade = 0,
): JobsOptions => ({
  ...retention,
  jobId: deliveryId,
  attempts: Math.max(1, settings.webhookAttempts - attemptsMade),
  backoff: { type: "exponential", delay: settings.webhookBackoffMs * 2 ** attemptsMade },
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
