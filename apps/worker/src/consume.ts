import type { Log } from "@txn/platform"
import {
  decodeJob,
  type JobName,
  type JobPayload,
  type JobProcessor,
  type QueueBackend,
  type QueueName,
  type WorkerSettings,
} from "@txn/queue"
import { UnrecoverableError } from "bullmq"
import type { WorkerMetrics } from "./metrics.ts"

/** A processor for every job of queue `Q`'s contract, each given that job's payload. */
export type Processors<Q extends QueueName> = {
  readonly [N in JobName<Q>]: JobProcessor<JobPayload<Q, N>>
}

/**
 * A BullMQ worker on `queue` that runs each job by its name's processor. The payload is decoded
 * first, by the queue's contract: an unknown name or a malformed payload fails without retry.
 * Failures and worker errors are logged. `close()` lets jobs in flight finish.
 */
export const consume = async <Q extends QueueName>(options: {
  readonly queues: QueueBackend
  readonly queue: Q
  readonly processors: Processors<Q>
  readonly log: Log
  readonly settings?: WorkerSettings
  /** Counts the jobs this worker ends. */
  readonly metrics?: WorkerMetrics
}) => {
  const { log, queue } = options
  const worker = options.queues.worker(
    queue,
    async (job, token) => {
      const process = (options.processors as Record<string, JobProcessor>)[job.name]
      if (process === undefined) throw new UnrecoverableError(`Unknown job ${job.name}`)
      // The processor reads the decoded payload where BullMQ put the stored one.
      job.data = decodeJob(queue, job.name as JobName<Q>, job.data)
      return process(job, token)
    },
    { concurrency: 10, ...options.settings },
  )
  worker.on("failed", (job, error) =>
    log.warn(
      { queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, error: error.message },
      "job failed",
    ),
  )
  worker.on("error", (error) => log.error({ queue, error: error.message }, "worker error"))
  options.metrics?.watch(worker, queue)
  await worker.waitUntilReady()
  return worker
}
