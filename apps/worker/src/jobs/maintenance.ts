import { Maintenance } from "@txn/domain"
import type { Log } from "@txn/platform"
import type { Job } from "bullmq"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

/**
 * Compares every stored balance with its postings. A mismatch is recorded by the run and logged
 * at error level with `alert: "balance_mismatch"`, for whatever watches the logs to page on.
 */
export const reconcileBalances = (runtime: WorkerRuntime, log: Log) => async (job: Job) => {
  const result = await runtime.runPromise(Maintenance.use((m) => m.reconcileBalances))
  for (const mismatch of result.mismatches) {
    log.error(
      { alert: "balance_mismatch", runId: result.runId, jobId: job.id, ...mismatch },
      "stored balance differs from its postings",
    )
  }
  log.info(
    {
      runId: result.runId,
      accountsChecked: result.accountsChecked,
      mismatches: result.mismatches.length,
    },
    "reconciliation finished",
  )
  return {
    runId: result.runId,
    accountsChecked: result.accountsChecked,
    mismatches: result.mismatches.length,
  }
}

export const purgeExpired = (runtime: WorkerRuntime, log: Log) => async (job: Job) => {
  const purged = await runtime.runPromise(Maintenance.use((m) => m.purgeExpired))
  log.info({ jobId: job.id, ...purged }, "purged expired records")
  return purged
}
