import { Actor, Transactions } from "@txn/domain"
import type { Job } from "bullmq"
import * as Effect from "effect/Effect"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

const batchSize = 500

/** The sweep behind the per-hold jobs: voids holds past due whose own job never arrived. */
export const expireDueHolds = (runtime: WorkerRuntime) => async (job: Job) => {
  const voided = await runtime.runPromise(
    Effect.gen(function* () {
      // Batch after batch while batches come back full, so a backlog clears in one sweep.
      let total = 0
      for (;;) {
        const count = yield* Transactions.use((transactions) => transactions.expireDue(batchSize))
        total += count
        if (count < batchSize) return total
      }
    }).pipe(
      Effect.tap((count) =>
        count > 0 ? Effect.logInfo("Voided expired holds", { count }) : Effect.void,
      ),
      // Expiry is the worker's doing, and its history says so.
      Effect.provideService(Actor, "worker"),
      Effect.annotateLogs({ jobId: job.id }),
    ),
  )
  return { voided }
}
