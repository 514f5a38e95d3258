import type { QueueHandle } from "@txn/queue"
import { eventually, queueBackends } from "@txn/testing"
import type { Queue } from "bullmq"

export const backends = queueBackends()

/** Both backends hand out BullMQ Queue instances; tests read more of them than the port exposes. */
export const inspect = (queue: QueueHandle) => queue as unknown as Queue

/** The job once it has completed or failed for good (a retry in between is neither), and which. */
export const finishedJob = async (queue: QueueHandle, jobId: string, timeoutMs = 20_000) => {
  await eventually(
    async () => {
      const state = await (await inspect(queue).getJob(jobId))?.getState()
      return state === "completed" || state === "failed" ? state : undefined
    },
    { timeoutMs, what: `job ${jobId} to finish` },
  )
  const job = (await inspect(queue).getJob(jobId))!
  return { job, state: await job.getState() }
}
