import { once } from "node:events"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { JobNames, type JobWorker, type QueueHandle } from "@txn/queue"
import type { Job } from "bullmq"
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client"
import type { HistoryRelayed } from "./Relay.ts"

/** Job durations in seconds: from a trivial job to a large export. */
const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

/** How long a scrape waits for one queue's counts before leaving that queue out. */
const countTimeoutMs = 2_000

/**
 * The worker's Prometheus metrics, in a registry of their own: jobs by queue, name and outcome
 * with their run time, each queue's jobs by state (read when scraped), the outbox relay's lag,
 * webhook delivery attempts by result, and Node's own figures.
 */
export const makeWorkerMetrics = () => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const jobs = new Counter({
    name: "txn_jobs_total",
    help: "Job runs ended, by queue, job name and outcome (completed, or failed: retried while attempts are left)",
    labelNames: ["queue", "job", "outcome"] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: "txn_job_duration_seconds",
    help: "Time a job run took, from its start to its end, by queue and job name",
    labelNames: ["queue", "job"] as const,
    buckets: durationBuckets,
    registers: [registry],
  })
  const tracked: Array<QueueHandle> = []
  new Gauge({
    name: "txn_queue_jobs",
    help: "Jobs in each queue by state (waiting, active, delayed, failed), counted when scraped",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset()
      await Promise.all(
        tracked.map(async (queue) => {
          const counts = await Promise.race([
            queue.getJobCounts("waiting", "active", "delayed", "failed"),
            new Promise<undefined>((resolve) =>
              setTimeout(() => resolve(undefined), countTimeoutMs).unref(),
            ),
          ]).catch(() => undefined)
          if (counts === undefined) return
          for (const [state, count] of Object.entries(counts)) {
            this.set({ queue: queue.name, state }, count)
          }
        }),
      )
    },
  })
  const outboxLag = new Gauge({
    name: "txn_outbox_lag_seconds",
    help: "For the latest batch of changes the relay put on the events queue, the longest time one waited since it was written",
    registers: [registry],
  })
  const deliveries = new Counter({
    name: "txn_webhook_deliveries_total",
    help: "Webhook delivery attempts by result: delivered, failed (no attempts left or endpoint disabled), retrying (failed, attempts left)",
    labelNames: ["result"] as const,
    registers: [registry],
  })
  for (const result of ["delivered", "failed", "retrying"]) deliveries.inc({ result }, 0)

  /** What a webhook job's end says of its deliveries. */
  const countDeliveries = (job: Job, error?: Error) => {
    if (job.name === JobNames.deliverWebhook) {
      if (error !== undefined) {
        if (error.name === "DeliveryFailed") deliveries.inc({ result: "retrying" })
        return
      }
      const status = (job.returnvalue as { status?: string } | undefined)?.status
      if (status === "delivered" || status === "failed") deliveries.inc({ result: status })
    } else if (job.name === JobNames.deliverWebhooks && error === undefined) {
      const counts = job.returnvalue as
        | { delivered?: number; failed?: number; retrying?: number }
        | undefined
      deliveries.inc({ result: "delivered" }, counts?.delivered ?? 0)
      deliveries.inc({ result: "failed" }, counts?.failed ?? 0)
      deliveries.inc({ result: "retrying" }, counts?.retrying ?? 0)
    }
  }

  const ended = (queue: string, job: Job, outcome: "completed" | "failed") => {
    jobs.inc({ queue, job: job.name, outcome })
    if (job.processedOn !== undefined && job.finishedOn !== undefined) {
      duration.observe({ queue, job: job.name }, (job.finishedOn - job.processedOn) / 1000)
    }
  }

  return {
    registry,
    /** Counts the jobs `worker` ends on `queue`. */
    watch: (worker: JobWorker, queue: string) => {
      worker.on("completed", (job) => {
        ended(queue, job, "completed")
        countDeliveries(job)
      })
      worker.on("failed", (job, error) => {
        if (job === undefined) return
        ended(queue, job, "failed")
        countDeliveries(job, error)
      })
    },
    /** Counts this queue's jobs by state at each scrape. */
    track: (queue: QueueHandle) => {
      tracked.push(queue)
    },
    /** A batch the relay enqueued, and when. */
    relayed: (relayed: HistoryRelayed, enqueuedAt: Date) => {
      const oldest = Math.min(...relayed.events.map((event) => event.at.getTime()))
      if (Number.isFinite(oldest)) outboxLag.set(Math.max(0, enqueuedAt.getTime() - oldest) / 1000)
    },
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  }
}

export type WorkerMetrics = ReturnType<typeof makeWorkerMetrics>

/**
 * Serves `metrics` at `/metrics` on `host:port` for Prometheus (the worker answers nothing else);
 * `close()` stops it.
 */
export const serveWorkerMetrics = async (metrics: WorkerMetrics, host: string, port: number) => {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0]
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "content-type": "application/json" })
      response.end(JSON.stringify({ error: { tag: "NotFound", message: "Only /metrics here" } }))
      return
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { "content-type": contentType, "cache-control": "no-store" })
        response.end(body)
      },
      () => {
        response.writeHead(503, { "content-type": "application/json" })
        response.end(
          JSON.stringify({ error: { tag: "Unavailable", message: "Try again shortly" } }),
        )
      },
    )
  })
  server.listen(port, host)
  await once(server, "listening")
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}
