import type { Log } from "@txn/platform"
import { JobNames, type QueueBackend, Queues } from "@txn/queue"
import { type Job, UnrecoverableError } from "bullmq"
import { expireDueHolds } from "./jobs/expireDueHolds.ts"
import { expireHold } from "./jobs/expireHold.ts"
import type { WorkerRuntime } from "./WorkerRuntime.ts"

export interface HoldsWorkerOptions {
  readonly queues: QueueBackend
  readonly runtime: WorkerRuntime
  readonly log: Log
  readonly concurrency?: number
  /** How often the sweep for overdue holds runs. */
  readonly sweepEveryMs?: number
}

/** Consumes the holds queue and keeps the periodic sweep scheduled. */
export const startHoldsWorker = async (options: HoldsWorkerOptions) => {
  const processors: Record<string, (job: Job) => Promise<unknown>> = {
    [JobNames.expireHold]: expireHold(options.runtime),
    [JobNames.expireDueHolds]: expireDueHolds(options.runtime),
  }
  const worker = options.queues.worker(
    Queues.holds,
    async (job) => {
      const process = processors[job.name]
      if (process === undefined) throw new UnrecoverableError(`Unknown job ${job.name}`)
      return process(job)
    },
    { concurrency: options.concurrency ?? 10 },
  )
  worker.on("failed", (job, error) =>
    options.log.warn(
      {
        queue: Queues.holds,
        job: job?.name,
        jobId: job?.id,
        attempts: job?.attemptsMade,
        error: error.message,
      },
      "job failed",
    ),
  )
  worker.on("error", (error) =>
    options.log.error({ queue: Queues.holds, error: error.message }, "worker error"),
  )
  await worker.waitUntilReady()

  const queue = options.queues.queue(Queues.holds)
  await queue.upsertJobScheduler(
    JobNames.expireDueHolds,
    { every: options.sweepEveryMs ?? 60_000 },
    {
      name: JobNames.expireDueHolds,
      data: {},
      opts: { removeOnComplete: 100, removeOnFail: 1000 },
    },
  )

  return {
    worker,
    queue,
    /** Waits for jobs in flight to finish, then closes. */
    close: async () => {
      await worker.close()
      await queue.close()
    },
  }
}
