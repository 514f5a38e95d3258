import type { Log } from "@txn/platform"
import { JobNames, type QueueBackend, Queues } from "@txn/queue"
import * as Fiber from "effect/Fiber"
import { consume } from "./consume.ts"
import { startHoldsWorker } from "./HoldsWorker.ts"
import { backoffStrategy } from "./jobOptions.ts"
import { buildExport } from "./jobs/buildExport.ts"
import { deliverWebhook } from "./jobs/deliverWebhook.ts"
import { deliverWebhooks } from "./jobs/deliverWebhooks.ts"
import { dispatchEvent, dispatchEvents } from "./jobs/dispatchEvent.ts"
import { purgeExpired, reconcileBalances } from "./jobs/maintenance.ts"
import type { WorkerMetrics } from "./metrics.ts"
import { type HistoryRelayed, runRelay } from "./Relay.ts"
import { type BackgroundSettings, defaultSettings } from "./settings.ts"
import { makeWebhookClient, type WebhookNetwork } from "./WebhookClient.ts"
import type { WorkerRuntime } from "./WorkerRuntime.ts"

export interface WorkersOptions {
  readonly queues: QueueBackend
  readonly runtime: WorkerRuntime
  readonly log: Log
  readonly settings?: Partial<BackgroundSettings>
  /** Which addresses webhook deliveries may connect to. */
  readonly webhookNetwork: WebhookNetwork
  /** Sees each batch of history events the relay enqueued, and when (the relay's lag). */
  readonly onRelayed?: (relayed: HistoryRelayed, enqueuedAt: Date) => void
  /** Counts jobs, queue depths, the relay's lag and webhook deliveries for /metrics. */
  readonly metrics?: WorkerMetrics
}

/** Scheduler ids are fixed, so upserting them again (each start, and periodically) changes nothing. */
const scheduleOptions = { removeOnComplete: 100, removeOnFail: 1000 }

/**
 * Everything the worker process runs: a consumer per queue, the job schedulers and the outbox
 * relay. `close()` stops the relay, lets every job in flight finish, then closes the queues.
 */
export const startWorkers = async (options: WorkersOptions) => {
  const settings: BackgroundSettings = { ...defaultSettings, ...options.settings }
  const { queues, runtime, log } = options
  const producers = {
    events: queues.queue(Queues.events),
    webhooks: queues.queue(Queues.webhooks),
    exports: queues.queue(Queues.exports),
    maintenance: queues.queue(Queues.maintenance),
  }
  const { metrics } = options
  for (const queue of Object.values(producers)) metrics?.track(queue)
  const webhookClient = makeWebhookClient(options.webhookNetwork)
  const workerSettings = {
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.lockDurationMs,
    // Delivery jobs retry when the delivery log says; the other jobs' backoffs are BullMQ's own.
    settings: { backoffStrategy },
  }

  const holds = await startHoldsWorker({
    queues,
    runtime,
    log,
    sweepEveryMs: settings.holdSweepEveryMs,
    ...(metrics === undefined ? {} : { metrics }),
  })
  const consumers = await Promise.all([
    consume({
      queues,
      queue: Queues.events,
      processors: {
        [JobNames.dispatchEvents]: dispatchEvents(runtime, producers, settings),
        // Jobs of one event each, enqueued before batches.
        [JobNames.dispatchEvent]: dispatchEvent(runtime, producers, settings),
      },
      log,
      ...(metrics === undefined ? {} : { metrics }),
      settings: { ...workerSettings, concurrency: settings.eventConcurrency },
    }),
    consume({
      queues,
      queue: Queues.webhooks,
      processors: {
        [JobNames.deliverWebhooks]: deliverWebhooks(
          runtime,
          settings,
          webhookClient,
          producers.webhooks,
        ),
        [JobNames.deliverWebhook]: deliverWebhook(runtime, settings, webhookClient),
      },
      log,
      ...(metrics === undefined ? {} : { metrics }),
      settings: { ...workerSettings, concurrency: settings.webhookConcurrency },
    }),
    consume({
      queues,
      queue: Queues.exports,
      processors: { [JobNames.buildExport]: buildExport(runtime) },
      log,
      ...(metrics === undefined ? {} : { metrics }),
      settings: { ...workerSettings, concurrency: 2 },
    }),
    consume({
      queues,
      queue: Queues.maintenance,
      processors: {
        [JobNames.reconcileBalances]: reconcileBalances(runtime, log),
        [JobNames.purgeExpired]: purgeExpired(runtime, log),
      },
      log,
      ...(metrics === undefined ? {} : { metrics }),
      settings: { ...workerSettings, concurrency: 1 },
    }),
  ])

  // A Redis that restarted without its data has no schedulers: put them back now and then.
  const ensureSchedulers = async () => {
    await producers.maintenance.upsertJobScheduler(
      JobNames.reconcileBalances,
      { pattern: settings.reconcilePattern, tz: "UTC" },
      { name: JobNames.reconcileBalances, data: {}, opts: scheduleOptions },
    )
    await producers.maintenance.upsertJobScheduler(
      JobNames.purgeExpired,
      { every: settings.purgeEveryMs },
      { name: JobNames.purgeExpired, data: {}, opts: scheduleOptions },
    )
  }
  await ensureSchedulers()
  const reschedule = setInterval(() => {
    ensureSchedulers().catch((error: Error) =>
      log.warn({ error: error.message }, "could not refresh job schedulers"),
    )
  }, 10 * 60_000).unref()

  const onRelayed =
    metrics === undefined
      ? options.onRelayed
      : (relayed: HistoryRelayed, enqueuedAt: Date) => {
          metrics.relayed(relayed, enqueuedAt)
          options.onRelayed?.(relayed, enqueuedAt)
        }
  const relay = runtime.runFork(runRelay(producers, settings, onRelayed))

  return {
    settings,
    producers,
    close: async () => {
      clearInterval(reschedule)
      await runtime.runPromise(Fiber.interrupt(relay))
      await Promise.all([holds.close(), ...consumers.map((worker) => worker.close())])
      await Promise.all(Object.values(producers).map((queue) => queue.close()))
      await webhookClient.close()
    },
  }
}
