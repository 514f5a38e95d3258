import { ExportBuilder, type ExportId } from "@txn/domain"
import type { BuildExportJob } from "@txn/queue"
import { type Job, UnrecoverableError } from "bullmq"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

/** Whether BullMQ will try this job again if this attempt fails. */
const isLastAttempt = (job: Job) => job.attemptsMade + 1 >= (job.opts.attempts ?? 1)

/**
 * Writes one export's CSV. A build that fails (the database went away, the worker was stopped)
 * is retried and resumes after its last committed chunk; once the last attempt has failed, the
 * export is marked failed, so its owner hears about it rather than waiting forever.
 */
export const buildExport = (runtime: WorkerRuntime) => async (job: Job<BuildExportJob>) => {
  const exportId = job.data.exportId as ExportId
  const exit = await runtime.runPromiseExit(
    ExportBuilder.use((builder) => builder.build(exportId)).pipe(
      // The whole cause (the database's own message included) goes to the log, not to the user.
      Effect.tapCause((cause) =>
        Effect.logWarning("Export build failed", {
          attempt: job.attemptsMade + 1,
          cause: Cause.pretty(cause),
        }),
      ),
      Effect.annotateLogs({ jobId: job.id, exportId }),
    ),
  )
  if (Exit.isSuccess(exit)) {
    const outcome = exit.value
    if (outcome._tag === "Failed") throw new UnrecoverableError(outcome.error)
    return { exportId, outcome: outcome._tag }
  }
  if (isLastAttempt(job)) {
    await runtime.runPromise(
      ExportBuilder.use((builder) =>
        builder.markFailed(
          exportId,
          `The export could not be built after ${job.attemptsMade + 1} attempts; create a new one`,
        ),
      ),
    )
  }
  throw new Error(`Export ${exportId} failed: ${Cause.pretty(exit.cause).split("\n")[0]}`)
}
