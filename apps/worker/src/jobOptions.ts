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
 * A delivery's job, keyed by the delivery's id. BullMQ's exponential backoff waits
 * `webhookBackoffMs * 2^(n-1)` after the n-th failure, as `retryDelayMs` computes.
 */
export const deliveryJobOptions = (
  settings: BackgroundSettings,
  deliveryId: string,
  attemptsMade = 0,
): JobsOptions => ({
  ...retention,
  jobId: deliveryId,
  attempts: Math.max(1, settings.webhookAttempts - attemptsMade),
  backoff: { type: "exponential", delay: settings.webhookBackoffMs },
})

export const exportJobOptions = (exportId: string): JobsOptions => ({
  ...retention,
  jobId: exportId,
  attempts: 5,
  backoff: { type: "exponential", delay: 5_000 },
})
