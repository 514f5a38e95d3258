import type { Log } from "@txn/platform"
import { JobNames, type QueueBackend, Queues } from "@txn/queue"
import { consume } from "./consume.ts"
import { expireDueHolds } from "./jobs/expireDueHolds.ts"
import { expireHold } from "./jobs/expireHold.ts"
import type { WorkerMetrics } from "./metrics.ts"
import type { WorkerRuntime } from "./WorkerRuntime.ts"

export interface HoldsWorkerOptions {
  readonly queues: QueueBackend
  readonly runtime: WorkerRuntime
  readonly log: Log
  readonly concurrency?: number
  /** How often the sweep for overdue holds runs. */
  readonly sweepEveryMs?: number
  /** Counts the jobs it ends and the queue's jobs by state. */
  readonly metrics?: WorkerMetrics
}

/** Consumes the holds queue and keeps the periodic sweep scheduled. */
export const startHoldsWorker = async (options: HoldsWorkerOptions) => {
  const worker = await consume({
    queues: options.queues,
    queue: Queues.holds,
    processors: {
      [JobNames.expireHold]: expireHold(options.runtime),
      [JobNames.expireDueHolds]: expireDueHolds(options.runtime),
    },
    log: options.log,
    settings: { concurrency: options.concurrency ?? 10 },
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  })

  const queue = options.queues.queue(Queues.holds)
  options.metrics?.track(queue)
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
