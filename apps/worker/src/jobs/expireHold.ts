import { Actor, Transactions } from "@txn/domain"
import { ExpireHoldJob } from "@txn/queue"
import { type Job, UnrecoverableError } from "bullmq"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

/** Voids one pending transaction once its `expiresAt` has passed. */
export const expireHold = (runtime: WorkerRuntime) => async (job: Job) => {
  const payload = Schema.decodeUnknownResult(ExpireHoldJob)(job.data)
  if (Result.isFailure(payload)) {
    throw new UnrecoverableError(`Malformed ${job.name} payload: ${payload.failure.message}`)
  }
  const { transactionId } = payload.success
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
