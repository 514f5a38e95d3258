import { Actor, Transactions } from "@txn/domain"
import type { ExpireHoldJob } from "@txn/queue"
import type { Job } from "bullmq"
import * as Effect from "effect/Effect"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

/** Voids one pending transaction once its `expiresAt` has passed. */
export const expireHold = (runtime: WorkerRuntime) => async (job: Job<ExpireHoldJob>) => {
  const { transactionId } = job.data
  const outcome = await runtime.runPromise(
    Transactions.use((transactions) => transactions.expire(transactionId)).pipe(
      // Expiry is the worker's doing, and its history says so.
      Effect.provideService(Actor, "worker"),
      Effect.annotateLogs({ jobId: job.id, transactionId }),
    ),
  )
  // A job that runs early (clocks of two hosts disagree) is retried with backoff.
  if (outcome === "notDue") throw new Error(`Transaction ${transactionId} is not due to expire yet`)
  return { transactionId, outcome }
}
