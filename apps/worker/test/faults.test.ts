import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { type Delivery, Transactions, type WebhookId, Webhooks } from "@txn/domain"
import { eventually } from "@txn/testing"
import * as Redacted from "effect/Redacted"
import { afterEach, describe, expect, it } from "vitest"
import { type Background, fastSettings, startBackground } from "./background.ts"
import { type Answer, startReceiver } from "./receiver.ts"
import { redisServerMissing, startRedisServer } from "./redisServer.ts"
import { spawnWorkerProcess } from "./workerProcessRunner.ts"

const workerProcess = fileURLToPath(new URL("./workerProcess.ts", import.meta.url))

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

const deliveriesOf = (bg: Background, id: WebhookId) =>
  bg.runtime.runPromise(Webhooks.use((w) => w.deliveries(bg.userId, { id, limit: 200 })))

/** Every delivery of the webhook, page after page. */
const allDeliveriesOf = async (bg: Background, id: WebhookId) => {
  const all: Array<Delivery> = []
  let cursor: string | undefined
  for (let page = 0; page < 100; page++) {
    const { items, nextCursor } = await bg.runtime.runPromise(
      Webhooks.use((w) =>
        w.deliveries(bg.userId, { id, limit: 200, ...(cursor ? { cursor } : {}) }),
      ),
    )
    all.push(...items)
    if (nextCursor === null) break
    cursor = nextCursor
  }
  return all
}

describe("a Redis server stopped while writes go on, then restarted empty", () => {
  it.skipIf(redisServerMissing)(
    "delivers every event at least once, a repeat only as a new attempt of the same delivery",
    async () => {
      const redis = await startRedisServer()
      cleanups.push(redis.stop)
      const bg = await startBackground({ redisUrl: redis.url, label: "outage" })
      cleanups.push(bg.close)
      const receiver = await startReceiver()
      cleanups.push(receiver.close)
      const webhook = await bg.createWebhook({
        url: receiver.url,
        eventTypes: ["transaction.created"],
      })
      receiver.useSecret(webhook.secret)
      const account = await bg.openAccount()

      const created: Array<string> = []
      let writing = true
      const writer = (async () => {
        while (writing) {
          const t = await bg.runtime.runPromise(
            Transactions.use((txns) => txns.create(bg.userId, bg.transaction(account))),
          )
          created.push(t.id)
          await new Promise((resolve) => setTimeout(resolve, 25))
        }
      })()

      await eventually(async () => (receiver.received.length >= 5 ? true : undefined))
      await redis.stop()
      const duringOutage = created.length
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      expect(created.length).toBeGreaterThan(duringOutage) // writes went on without Redis
      await redis.start()
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      writing = false
      await writer

      await eventually(
        async () => (receiver.received.length >= created.length ? true : undefined),
        {
          timeoutMs: 60_000,
          what: `all ${created.length} events at the receiver`,
        },
      )
      // Let anything that would arrive twice arrive.
      await new Promise((resolve) => setTimeout(resolve, fastSettings.relayStaleMs! + 1_500))
      expect(receiver.rejected).toEqual([])
      // At least once: every event was answered 2xx by the receiver.
      const ids = receiver.received.map(
        (r) => (r.event.data as { transaction: { id: string } }).transaction.id,
      )
      expect([...new Set(ids)].sort()).toEqual(created.slice().sort())
      // A second arrival is possible (an answer that came after the timeout, a worker that
      // stalled past its lease) but only ever as a new, logged attempt of the same delivery,
      // with the same event id: what a receiver de-duplicates by.
      const deliveries = await allDeliveriesOf(bg, webhook.id)
      expect(deliveries).toHaveLength(created.length)
      for (const delivery of deliveries) {
        const sent = receiver.requests.filter((r) => r.deliveryId === delivery.id)
        expect(delivery.status).toBe("delivered")
        expect(sent.every((r) => r.eventId === delivery.eventId)).toBe(true)
        expect(new Set(sent.map((r) => r.attempt)).size).toBe(sent.length)
        expect(delivery.log.map((a) => a.attempt)).toEqual(
          Array.from({ length: delivery.attempts }, (_, index) => index + 1),
        )
        expect(sent.every((r) => r.attempt <= delivery.attempts)).toBe(true)
        // Each attempt got the receiver's 200 or, as far as the worker knows, no answer at all.
        for (const { statusCode, error } of delivery.log) {
          expect(statusCode === 200 ? error === null : statusCode === null && error !== null).toBe(
            true,
          )
        }
      }
      const known = new Set(deliveries.map((d) => d.id))
      expect(receiver.requests.filter((r) => !known.has(r.deliveryId))).toEqual([])
    },
    120_000,
  )
})

/** The worker process (as main.ts runs it) with short timings, its JSON log collected. */
const spawnWorker = (env: Record<string, string>) => {
  const worker = spawnWorkerProcess(workerProcess, {
    TXN_TEST_WORKER_SETTINGS: JSON.stringify(fastSettings),
    ...env,
  })
  const child = worker.proc
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL")
      await once(child, "exit")
    }
  })
  return { ...worker, child }
}

describe.each(["redis", "postgres"] as const)(
  "the worker process on the %s queue backend",
  (kind) => {
    const skipped = kind === "redis" ? redisServerMissing : undefined
    /** A database and a webhook whose receiver answers as told; no worker runs in this process. */
    const arrange = async (answer: (attempt: number) => Answer) => {
      const redis = kind === "redis" ? await startRedisServer() : undefined
      if (redis !== undefined) cleanups.push(redis.stop)
      const bg = await startBackground({
        redisUrl: redis?.url,
        workers: false,
        label: `process_${kind}`,
      })
      cleanups.push(bg.close)
      const receiver = await startReceiver((_event, attempt) => answer(attempt))
      cleanups.push(receiver.close)
      const webhook = await bg.createWebhook({ url: receiver.url, eventTypes: ["account.created"] })
      receiver.useSecret(webhook.secret)
      const env = {
        DATABASE_URL: Redacted.value(bg.database.url),
        ...(redis === undefined ? {} : { REDIS_URL: Redacted.value(redis.url) }),
      }
      return { bg, receiver, webhook, env }
    }

    it.skipIf(skipped)(
      "retries and completes a job whose worker was killed (SIGKILL) in the middle of it",
      async () => {
        let calls = 0
        const { bg, receiver, webhook, env } = await arrange(() => (++calls === 1 ? "hang" : 200))
        const first = spawnWorker(env)
        await first.waitFor("worker started")
        await bg.openAccount("Killed mid-delivery")
        await eventually(async () => (receiver.arrivals.length === 1 ? true : undefined), {
          what: "the first attempt to reach the receiver",
        })
        first.child.kill("SIGKILL")
        await once(first.child, "exit")

        const second = spawnWorker(env)
        await second.waitFor("worker started")
        const [delivery] = await eventually(
          async () => {
            const page = await deliveriesOf(bg, webhook.id)
            return page.items[0]?.status === "delivered" ? page.items : undefined
          },
          { timeoutMs: 40_000, what: "the delivery to complete after the kill" },
        )
        // The killed attempt counts: the retry goes out as attempt 2, with the same ids, and the
        // log keeps attempt 1 as interrupted.
        expect(delivery).toMatchObject({ status: "delivered", attempts: 2, lastStatusCode: 200 })
        expect(receiver.requests).toEqual([
          { eventId: delivery!.eventId, deliveryId: delivery!.id, attempt: 1 },
          { eventId: delivery!.eventId, deliveryId: delivery!.id, attempt: 2 },
        ])
        expect(delivery!.log).toEqual([
          expect.objectContaining({
            attempt: 1,
            statusCode: null,
            error: "Interrupted before its outcome was recorded",
            durationMs: null,
          }),
          expect.objectContaining({ attempt: 2, statusCode: 200, error: null }),
        ])
        expect(receiver.received).toHaveLength(1)
      },
      60_000,
    )

    it.skipIf(skipped)(
      "lets the job in flight finish on SIGTERM, then exits 0",
      async () => {
        const { bg, receiver, webhook, env } = await arrange(() => ({
          status: 200,
          delayMs: 1_500,
        }))
        const worker = spawnWorker(env)
        await worker.waitFor("worker started")
        await bg.openAccount("In flight at SIGTERM")
        await eventually(async () => (receiver.arrivals.length === 1 ? true : undefined))
        worker.child.kill("SIGTERM")
        const [code] = await once(worker.child, "exit")
        expect(code).toBe(0)
        expect(worker.lines.map((line) => line.msg).at(-1)).toBe("worker stopped")
        expect(worker.lines.filter((line) => line.msg === "job failed")).toEqual([])
        // Answered after the signal, and recorded before the exit.
        expect(receiver.received).toHaveLength(1)
        const [delivery] = (await deliveriesOf(bg, webhook.id)).items
        expect(delivery).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 })
      },
      60_000,
    )
  },
)
