import { onShutdown, startAppProcess } from "@txn/platform"
import { Queues } from "@txn/queue"
import { makeWorkerMetrics, serveWorkerMetrics } from "./metrics.ts"
import type { BackgroundSettings } from "./settings.ts"
import { startWorkers } from "./startWorkers.ts"

/**
 * The worker process: config, database and queues as the API has them, every consumer, the
 * schedulers and the relay. On SIGTERM or SIGINT it stops taking jobs, lets those in flight
 * finish, closes everything and exits 0.
 */
export const runWorker = async (settings: Partial<BackgroundSettings> = {}) => {
  const app = await startAppProcess("worker")
  const { config, log, queues, runtime } = app
  const metrics = makeWorkerMetrics()
  const workers = await startWorkers({
    queues,
    runtime,
    log,
    settings,
    webhookNetwork: { allowPrivate: config.webhookAllowPrivate },
    metrics,
  })
  const served =
    config.workerMetricsPort === undefined
      ? undefined
      : await serveWorkerMetrics(metrics, config.host, config.workerMetricsPort)
  onShutdown(
    log,
    { stopping: "worker shutting down; finishing jobs in flight", stopped: "worker stopped" },
    async () => {
      await served?.close()
      await workers.close()
      await app.close()
    },
  )
  // After the handlers: a SIGTERM sent on reading this line must find them.
  log.info(
    {
      queueBackend: queues.kind,
      queues: Object.values(Queues),
      ...(served === undefined ? {} : { metrics: `http://${config.host}:${served.port}/metrics` }),
    },
    "worker started",
  )
}
