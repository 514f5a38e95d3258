import type { Log } from "@txn/platform"
import type { QueueBackend, WorkerSettings } from "@txn/queue"
import { type Job, UnrecoverableError } from "bullmq"

/** Runs one job; `token` is the job's lock, which moving it back to delayed needs. */
export type JobProcessor = (job: Job, token?: string) => Promise<unknown>

/**
 * A BullMQ worker on `queue` that runs each job by its name's processor; an unknown name fails
 * without retry. Failures and worker errors are logged. `close()` lets jobs in flight finish.
 */
export const consume = async (options: {
  readonly queues: QueueBackend
  readonly queue: string
  readonly processors: Readonly<Record<string, JobProcessor>>
  readonly log: Log
  readonly settings?: WorkerSettings
}) => {
  const { log, queue } = options
  const worker = options.queues.worker(
    queue,
    async (job, token) => {
      const process = options.processors[job.name]
      if (process === undefined) throw new UnrecoverableError(`Unknown job ${job.name}`)
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
  await worker.waitUntilReady()
  return worker
}
