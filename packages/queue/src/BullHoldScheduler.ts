import { HoldScheduler, type TransactionId } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { JobQueue, JobSpec } from "./QueueBackend.ts"
import { expireHoldJobId, JobNames } from "./Queues.ts"

export interface BullHoldSchedulerOptions {
  /**
   * How long an enqueue may take before it counts as failed. An unreachable Redis (commands wait
   * for a reconnect) or a closed PostgreSQL queue never answer, which would hold the use case up.
   */
  readonly timeoutMs?: number
}

/**
 * A delayed job per hold. Enqueueing can fail after the transaction committed; the worker's
 * periodic `expire-due-holds` sweep voids such holds anyway, so the failure is logged, not raised.
 */
const jobOf = (transactionId: TransactionId, expiresAt: Date): JobSpec<"holds"> => ({
  name: JobNames.expireHold,
  data: { transactionId },
  opts: {
    jobId: expireHoldJobId(transactionId),
    delay: Math.max(0, expiresAt.getTime() - Date.now()),
    attempts: 10,
    backoff: { type: "exponential", delay: 1000 },
    removeOnComplete: 1000,
    removeOnFail: 5000,
  },
})

export const layer = (queue: JobQueue<"holds">, options: BullHoldSchedulerOptions = {}) => {
  const enqueue = (add: Promise<unknown>, details: Record<string, unknown>) =>
    Effect.tryPromise(() => add).pipe(
      Effect.timeout(options.timeoutMs ?? 5_000),
      Effect.asVoid,
      Effect.catch((error) =>
        Effect.logWarning("Could not enqueue hold expiry; the sweep will void it", {
          ...details,
          error: String(error),
        }),
      ),
    )
  return Layer.succeed(
    HoldScheduler,
    HoldScheduler.of({
      schedule: (transactionId, expiresAt) =>
        Effect.suspend(() => {
          const job = jobOf(transactionId, expiresAt)
          return enqueue(queue.addBulk([job]), { transactionId })
        }).pipe(Effect.withSpan("BullHoldScheduler.schedule")),
      scheduleMany: (holds) =>
        holds.length === 0
          ? Effect.void
          : Effect.suspend(() =>
              enqueue(queue.addBulk(holds.map((hold) => jobOf(hold.id, hold.expiresAt))), {
                transactionIds: holds.map((hold) => hold.id),
              }),
            ).pipe(Effect.withSpan("BullHoldScheduler.scheduleMany")),
    }),
  )
}
