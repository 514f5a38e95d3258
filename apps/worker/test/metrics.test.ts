import { Transactions } from "@txn/domain"
import { eventually, queueBackends } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeWorkerMetrics, serveWorkerMetrics } from "../src/metrics.ts"
import { type Background, startBackground } from "./background.ts"
import { startReceiver } from "./receiver.ts"

const backends = queueBackends()

/** The samples of a Prometheus text exposition: `name{labels}` to value. */
const samples = (text: string) => {
  const found = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const at = line.lastIndexOf(" ")
    found.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return found
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
const total = (found: Map<string, number>, name: string, labels: Record<string, string>) =>
  [...found]
    .filter(
      ([series]) =>
        (series === name || series.startsWith(`${name}{`)) &&
        Object.entries(labels).every(([key, value]) => series.includes(`${key}="${value}"`)),
    )
    .reduce((sum, [, value]) => sum + value, 0)

describe.each(backends)("the worker's /metrics with $name", ({ redisUrl, skipped }) => {
  let bg: Background
  let served: Awaited<ReturnType<typeof serveWorkerMetrics>>
  const receivers: Array<Awaited<ReturnType<typeof startReceiver>>> = []

  beforeAll(async () => {
    if (skipped) return
    const metrics = makeWorkerMetrics()
    bg = await startBackground({ redisUrl, label: "metrics", metrics })
    served = await serveWorkerMetrics(metrics, "127.0.0.1", 0)
  })
  afterAll(async () => {
    if (skipped) return
    await served.close()
    await bg.close()
    for (const receiver of receivers) await receiver.close()
  })

  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${served.port}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4")
    return samples(await response.text())
  }

  it.skipIf(skipped)(
    "counts jobs by outcome, deliveries by result, each queue's jobs and the relay's lag",
    async () => {
      const account = await bg.openAccount()
      for (const status of [200, 500]) {
        const receiver = await startReceiver(() => status)
        receivers.push(receiver)
        const webhook = await bg.createWebhook({
          url: receiver.url,
          eventTypes: ["transaction.created"],
        })
        receiver.useSecret(webhook.secret)
      }
      await bg.runtime.runPromise(
        Transactions.use((t) => t.create(bg.userId, bg.transaction(account))),
      )

      const found = await eventually(
        async () => {
          const now = await scrape()
          return total(now, "txn_webhook_deliveries_total", { result: "delivered" }) >= 1 &&
            total(now, "txn_webhook_deliveries_total", { result: "retrying" }) >= 1
            ? now
            : undefined
        },
        { what: "a delivered and a retried delivery in /metrics", timeoutMs: 20_000 },
      )
      expect(total(found, "txn_webhook_deliveries_total", { result: "failed" })).toBe(0)
      expect(
        total(found, "txn_jobs_total", { queue: "events", outcome: "completed" }),
      ).toBeGreaterThanOrEqual(1)
      expect(
        total(found, "txn_job_duration_seconds_count", { queue: "events" }),
      ).toBeGreaterThanOrEqual(1)
      expect(
        total(found, "txn_jobs_total", { queue: "webhooks", outcome: "completed" }),
      ).toBeGreaterThanOrEqual(1)
      for (const queue of ["holds", "events", "webhooks", "exports", "maintenance"]) {
        for (const state of ["waiting", "active", "delayed", "failed"]) {
          expect(
            found.get(`txn_queue_jobs{queue="${queue}",state="${state}"}`),
          ).toBeGreaterThanOrEqual(0)
        }
      }
      expect(found.get("txn_outbox_lag_seconds")).toBeGreaterThanOrEqual(0)
      expect(found.get("process_resident_memory_bytes")).toBeGreaterThan(0)
    },
  )

  it.skipIf(skipped)("answers nothing but /metrics", async () => {
    const response = await fetch(`http://127.0.0.1:${served.port}/`)
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { tag: string } }).error.tag).toBe("NotFound")
    const post = await fetch(`http://127.0.0.1:${served.port}/metrics`, { method: "POST" })
    expect(post.status).toBe(404)
  })
})
