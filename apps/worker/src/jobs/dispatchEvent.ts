import { Outbox } from "@txn/domain"
import {
  BuildExportJob,
  type DispatchEventJob,
  type DispatchEventsJob,
  JobNames,
  type JobQueue,
  type JobSpec,
} from "@txn/queue"
import type { Job } from "bullmq"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { deliveriesJobOptions, deliveryJobOptions, exportJobOptions } from "../jobOptions.ts"
import type { BackgroundSettings } from "../settings.ts"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

const exportIdOf = (data: Record<string, unknown>) =>
  Schema.decodeUnknownSync(
    Schema.Struct({ export: Schema.Struct({ id: BuildExportJob.fields.exportId }) }),
  )(data).export.id

/** The delivery jobs of `deliveries`, each keyed by its delivery's id. */
const enqueueEachDelivery = async (
  webhooks: JobQueue<"webhooks">,
  settings: BackgroundSettings,
  deliveries: ReadonlyArray<string>,
) => {
  if (deliveries.length === 0) return
  await webhooks.addBulk(
    deliveries.map((deliveryId) => ({
      name: JobNames.deliverWebhook,
      data: { deliveryId },
      opts: deliveryJobOptions(settings, deliveryId),
    })),
  )
}

/**
 * The first attempts of `deliveries`, `webhookBatch` to a job (see `deliverWebhooks`), each job
 * keyed by its deliveries' ids: the same deliveries make the same jobs, so a rerun adds none.
 */
const enqueueFirstAttempts = async (
  webhooks: JobQueue<"webhooks">,
  settings: BackgroundSettings,
  deliveries: ReadonlyArray<string>,
) => {
  const jobs = Arr.chunksOf([...deliveries].sort(), settings.webhookBatch).map(
    (deliveryIds): JobSpec<"webhooks"> => ({
      name: JobNames.deliverWebhooks,
      data: { deliveryIds },
      opts: deliveriesJobOptions(deliveryIds),
    }),
  )
  if (jobs.length > 0) await webhooks.addBulk(jobs)
}

/**
 * Hands one outbox event to what reacts to it: a delivery per subscribed webhook (created once,
 * whatever the number of runs) and, for a new export, its build job. The event is marked
 * dispatched only after all of it is enqueued, so a crash in between means a rerun, never a loss;
 * every job id is derived from what it acts on, so a rerun enqueues nothing twice.
 */
export const dispatchEvent =
  (
    runtime: WorkerRuntime,
    queues: { readonly webhooks: JobQueue<"webhooks">; readonly exports: JobQueue<"exports"> },
    settings: BackgroundSettings,
  ) =>
  async (job: Job<DispatchEventJob>) => {
    const { eventId } = job.data
    const event = await runtime.runPromise(Outbox.use((outbox) => outbox.findEvent(eventId)))
    // Purged after its retention, or already handled by an earlier run.
    if (event === undefined) return { eventId, outcome: "missing" }
    if (event.dispatchedAt !== null) return { eventId, outcome: "alreadyDispatched" }
    const deliveries = await runtime.runPromise(
      Outbox.use((outbox) => outbox.createDeliveries(event)),
    )
    await enqueueEachDelivery(queues.webhooks, settings, deliveries)
    if (event.type === "export.created") {
      const exportId = exportIdOf(event.data)
      await queues.exports.add(JobNames.buildExport, { exportId }, exportJobOptions(exportId))
    }
    await runtime.runPromise(
      Outbox.use((outbox) => outbox.markDispatched([eventId])).pipe(
        Effect.annotateLogs({ jobId: job.id }),
      ),
    )
    return { eventId, deliveries: deliveries.length }
  }

/**
 * Hands a batch of events to what reacts to them, as `dispatchEvent` does one, in a constant
 * number of statements however large the batch: its deliveries created and read back in one
 * (committed before their jobs are enqueued), its history events' `relayed_events` rows cleared
 * in two, its outbox events marked in one. Marked only after all of it is enqueued; a rerun
 * creates and enqueues nothing twice.
 */
export const dispatchEvents =
  (
    runtime: WorkerRuntime,
    queues: { readonly webhooks: JobQueue<"webhooks">; readonly exports: JobQueue<"exports"> },
    settings: BackgroundSettings,
  ) =>
  async (job: Job<DispatchEventsJob>) => {
    const { eventIds } = job.data
    const { deliveries, exports } = await runtime.runPromise(
      Outbox.use((outbox) => outbox.createBatchDeliveries(eventIds)),
    )
    await enqueueFirstAttempts(queues.webhooks, settings, deliveries)
    if (exports.length > 0) {
      await queues.exports.addBulk(
        exports.map((exportId) => ({
          name: JobNames.buildExport,
          data: { exportId: Schema.decodeUnknownSync(BuildExportJob.fields.exportId)(exportId) },
          opts: exportJobOptions(exportId),
        })),
      )
    }
    await runtime.runPromise(
      Outbox.use((outbox) => outbox.markDispatched(eventIds)).pipe(
        Effect.annotateLogs({ jobId: job.id }),
      ),
    )
    return { events: eventIds.length, deliveries: deliveries.length }
  }
