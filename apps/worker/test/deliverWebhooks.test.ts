import { PgOutbox } from "@txn/db"
import { JobNames, type JobQueue, Queues } from "@txn/queue"
import { inspect, queueBackends } from "@txn/testing"
import type { Job } from "bullmq"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliverWebhooks } from "../src/jobs/deliverWebhooks.ts"
import { type BackgroundSettings, defaultSettings, retryDelayMs } from "../src/settings.ts"
import { makeWebhookClient } from "../src/WebhookClient.ts"
import { type Background, startBackground } from "./background.ts"
import { countedRuntime } from "./fixtures.ts"
import { type Answer, startReceiver } from "./receiver.ts"

const backends = queueBackends()

// The receivers here listen on loopback, which deliveries refuse unless private targets are allowed.
const webhookClient = makeWebhookClient({ allowPrivate: true })
afterAll(() => webhookClient.close())

const settings: BackgroundSettings = { ...defaultSettings, webhookBackoffMs: 60_000 }

describe.each(backends)("first attempts sent together on $name", ({ redisUrl, skipped }) => {
  let bg: Background
  // The same database through a hop that counts statements.
  let counted: Awaited<ReturnType<typeof countedRuntime>>
  let webhooks: JobQueue<"webhooks">

  beforeAll(async () => {
    if (skipped) return
    bg = await startBackground({ redisUrl, workers: false, label: "first-attempts" })
    counted = await countedRuntime(bg.database.url)
    webhooks = bg.queues.queue(Queues.webhooks)
  })
  afterAll(async () => {
    if (skipped) return
    await webhooks.close()
    await counted.close()
    await bg.close()
  })

  /** An endpoint on `account.created`, and `n` deliveries to it as dispatching leaves them. */
  const deliveriesTo = async (n: number, answer: (attempt: number) => Answer) => {
    const receiver = await startReceiver((_event, attempt) => answer(attempt))
    const webhook = await bg.createWebhook({ url: receiver.url, eventTypes: ["account.created"] })
    receiver.useSecret(webhook.secret)
    const deliveryIds: Array<string> = []
    for (let i = 0; i < n; i++) {
      const account = await bg.openAccount(`Together ${i}`)
      const [event] = await bg.query<{ id: string }>(
        "select id from outbox where type = 'account.created' and data->'account'->>'id' = $1",
        account.id,
      )
      const stored = await bg.runtime.runPromise(PgOutbox.findEvent(event!.id))
      await bg.runtime.runPromise(PgOutbox.createDeliveries(stored!))
      const [delivery] = await bg.query<{ id: string }>(
        "select id from webhook_deliveries where event_id = $1 and webhook_id = $2",
        event!.id,
        webhook.id,
      )
      deliveryIds.push(delivery!.id)
    }
    return { receiver, webhook, deliveryIds }
  }

  const run = async (deliveryIds: ReadonlyArray<string>, using = settings) => {
    const job = { id: "together", name: JobNames.deliverWebhooks, data: { deliveryIds } } as Job
    const before = counted.statements()
    const outcome = await deliverWebhooks(counted.runtime, using, webhookClient, webhooks)(job)
    return { outcome, statements: counted.statements() - before }
  }

  const stateOf = (deliveryIds: ReadonlyArray<string>) =>
    bg.query<{ id: string; status: string; attempts: number; nextAttemptAt: Date | null }>(
      `select id, status, attempts, next_attempt_at from webhook_deliveries
        where id = any($1) order by id`,
      deliveryIds,
    )

  it.skipIf(skipped)(
    "claims a job's deliveries in one statement, delivers each once, signed, and records them in one",
    async () => {
      const { receiver, deliveryIds } = await deliveriesTo(6, () => 200)
      // Warms the pool up: its connections' first statements are not the job's.
      await run([deliveryIds[0]!])
      const rest = deliveryIds.slice(1)
      const { outcome, statements } = await run(rest)
      expect(outcome).toEqual({
        deliveries: 5,
        attempted: 5,
        delivered: 5,
        failed: 0,
        retrying: 0,
        ownJobs: 0,
      })
      // One claim and one record for all five; one by one it was two statements each.
      expect(statements).toBe(2)
      expect((await stateOf(deliveryIds)).map((d) => [d.status, d.attempts])).toEqual(
        deliveryIds.map(() => ["delivered", 1]),
      )
      expect(receiver.rejected).toEqual([])
      expect(receiver.requests.map((r) => r.deliveryId).sort()).toEqual([...deliveryIds].sort())
      await receiver.close()
    },
  )

  it.skipIf(skipped)(
    "hands a failed first attempt to the delivery's own job, due when the delivery log says",
    async () => {
      const { receiver, deliveryIds } = await deliveriesTo(2, () => 503)
      const started = Date.now()
      const { outcome } = await run(deliveryIds)
      expect(outcome).toEqual({
        deliveries: 2,
        attempted: 2,
        delivered: 0,
        failed: 0,
        retrying: 2,
        ownJobs: 2,
      })
      for (const delivery of await stateOf(deliveryIds)) {
        expect(delivery).toMatchObject({ status: "pending", attempts: 1 })
        const due = delivery.nextAttemptAt!.getTime()
        expect(due).toBeGreaterThanOrEqual(started + retryDelayMs(settings, 1) - 1_000)
        const job = await inspect(webhooks).getJob(delivery.id)
        expect(job?.name).toBe(JobNames.deliverWebhook)
        // Added with the wait the log gives: due within a second of the log's time.
        expect(Math.abs(job!.timestamp + job!.opts.delay! - due)).toBeLessThan(1_000)
        // Its retries: the attempts left, each when the log says (the workers' backoffStrategy).
        expect(job?.opts.attempts).toBe(settings.webhookAttempts - 1)
        expect(job?.opts.backoff).toEqual({ type: "delivery-log" })
      }
      await receiver.close()
    },
  )

  it.skipIf(skipped)(
    "leaves a delivery it cannot claim to a job of its own, and sends nothing twice when run again",
    async () => {
      const { receiver, deliveryIds } = await deliveriesTo(3, () => 200)
      const [leased, ...free] = deliveryIds as [string, ...Array<string>]
      await bg.query(
        "update webhook_deliveries set lease_until = now() + interval '1 hour' where id = $1",
        leased,
      )
      const first = await run(deliveryIds)
      expect(first.outcome).toEqual({
        deliveries: 3,
        attempted: 2,
        delivered: 2,
        failed: 0,
        retrying: 0,
        ownJobs: 1,
      })
      const own = await inspect(webhooks).getJob(leased)
      expect(own?.name).toBe(JobNames.deliverWebhook)
      expect(own?.opts.delay ?? 0).toBe(0)
      // Run again, as after a crash once the requests went out: the delivered are settled.
      const again = await run(deliveryIds)
      expect(again.outcome).toMatchObject({ attempted: 0, delivered: 0 })
      expect(receiver.requests.map((r) => r.deliveryId).sort()).toEqual([...free].sort())
      await receiver.close()
    },
  )

  it.skipIf(skipped)(
    "records each endpoint's outcomes as its own: a success clears a streak, failures extend or end one",
    async () => {
      const fine = await deliveriesTo(2, () => 200)
      const failing = await deliveriesTo(2, () => 500)
      const doomed = await deliveriesTo(1, () => 500)
      const failingSince = (webhookId: string, interval: string) =>
        bg.query(
          "update webhooks set failing_since = now() - $2::interval where id = $1",
          webhookId,
          interval,
        )
      await failingSince(fine.webhook.id, "1 day")
      await failingSince(failing.webhook.id, "1 hour")
      await failingSince(doomed.webhook.id, "3 days 1 minute")
      const all = [...fine.deliveryIds, ...failing.deliveryIds, ...doomed.deliveryIds]
      const { outcome, statements } = await run(all)
      expect(outcome).toEqual({
        deliveries: 5,
        attempted: 5,
        delivered: 2,
        failed: 0,
        retrying: 3,
        ownJobs: 3,
      })
      expect(statements).toBe(2)
      const states = new Map((await stateOf(all)).map((d) => [d.id, d]))
      for (const id of fine.deliveryIds) expect(states.get(id)?.status).toBe("delivered")
      for (const id of [...failing.deliveryIds, ...doomed.deliveryIds]) {
        expect(states.get(id)).toMatchObject({ status: "pending", attempts: 1 })
      }
      const endpoints = await bg.query<{
        id: string
        status: string
        failingSince: Date | null
        disabledReason: string | null
      }>("select id, status, failing_since, disabled_reason from webhooks where id = any($1)", [
        fine.webhook.id,
        failing.webhook.id,
        doomed.webhook.id,
      ])
      const endpoint = (id: string) => endpoints.find((e) => e.id === id)!
      expect(endpoint(fine.webhook.id)).toMatchObject({ status: "active", failingSince: null })
      expect(endpoint(failing.webhook.id)).toMatchObject({ status: "active", disabledReason: null })
      expect(endpoint(failing.webhook.id).failingSince?.getTime()).toBeLessThan(
        Date.now() - 30 * 60_000,
      )
      expect(endpoint(doomed.webhook.id).status).toBe("disabled")
      expect(endpoint(doomed.webhook.id).disabledReason).toMatch(
        /^Disabled after failing every delivery since .*; last error: HTTP 500$/,
      )
      await Promise.all([fine, failing, doomed].map((e) => e.receiver.close()))
    },
  )

  it.skipIf(skipped)(
    "records a receiver that never answers as timed out, and the others of its job as they went",
    async () => {
      const fine = await deliveriesTo(2, () => 200)
      const stalled = await deliveriesTo(1, () => "hang")
      const all = [...fine.deliveryIds, ...stalled.deliveryIds]
      const { outcome } = await run(all, { ...settings, webhookTimeoutMs: 500 })
      expect(outcome).toEqual({
        deliveries: 3,
        attempted: 3,
        delivered: 2,
        failed: 0,
        retrying: 1,
        ownJobs: 1,
      })
      const states = new Map((await stateOf(all)).map((d) => [d.id, d]))
      for (const id of fine.deliveryIds) expect(states.get(id)?.status).toBe("delivered")
      expect(states.get(stalled.deliveryIds[0]!)).toMatchObject({ status: "pending", attempts: 1 })
      const [attempt] = await bg.query<{ error: string | null }>(
        "select error from webhook_attempts where delivery_id = $1",
        stalled.deliveryIds[0],
      )
      expect(attempt?.error).toBe("No answer within 500 ms")
      await Promise.all([fine, stalled].map((e) => e.receiver.close()))
    },
  )
})
