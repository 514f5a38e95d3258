import { PgOutbox } from "@txn/db"
import { type WebhookId, Webhooks } from "@txn/domain"
import { JobNames, Queues } from "@txn/queue"
import { eventually, inspect, queueBackends } from "@txn/testing"
import { type BackoffOptions, Backoffs, DelayedError, type Job } from "bullmq"
import type * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { backoffStrategy, DeliveryFailed } from "../src/jobOptions.ts"
import { deliverWebhook } from "../src/jobs/deliverWebhook.ts"
import { dispatchEvent } from "../src/jobs/dispatchEvent.ts"
import { type BackgroundSettings, defaultSettings } from "../src/settings.ts"
import { makeWebhookClient } from "../src/WebhookClient.ts"
import { type Background, startBackground } from "./background.ts"
import { type Answer, startReceiver } from "./receiver.ts"

const backends = queueBackends()

// The receivers here listen on loopback, which deliveries refuse unless private targets are allowed.
const webhookClient = makeWebhookClient({ allowPrivate: true })
afterAll(() => webhookClient.close())

/** A job as BullMQ hands it to the processor; moving it back to delayed is only noted. */
const jobOf = (name: string, data: Record<string, string>) => {
  const delayedUntil: Array<number> = []
  const job = {
    id: Object.values(data)[0],
    name,
    data,
    moveToDelayed: async (timestamp: number) => {
      delayedUntil.push(timestamp)
    },
  } as unknown as Job
  return { job, delayedUntil }
}
const deliveryJob = (deliveryId: string) => jobOf(JobNames.deliverWebhook, { deliveryId })

/** Runs a delivery job to its end: settled, or failed to be retried after BullMQ's backoff. */
const outcomeOf = (run: Promise<unknown>) =>
  run.then(
    (value) => value as { readonly status: string },
    (error: unknown) => {
      if (error instanceof DeliveryFailed) return { status: "retry" }
      throw error
    },
  )

/** A database, and a receiver per test; no worker runs: each test runs the jobs itself. */
const arrange = (
  label: string,
  backend: { readonly redisUrl?: Redacted.Redacted<string>; readonly skipped?: string } = {},
) => {
  const state: { bg?: Background } = {}
  beforeAll(async () => {
    if (backend.skipped !== undefined) return
    state.bg = await startBackground({ redisUrl: backend.redisUrl, workers: false, label })
  })
  afterAll(async () => {
    await state.bg?.close()
  })
  const bg = () => state.bg!

  const endpoint = async (answer: (attempt: number) => Answer | Promise<Answer>) => {
    const receiver = await startReceiver((_event, attempt) => answer(attempt))
    const webhook = await bg().createWebhook({ url: receiver.url, eventTypes: ["account.created"] })
    receiver.useSecret(webhook.secret)
    return { receiver, webhook }
  }

  /** A new account.created event, and its delivery to `webhookId`, as dispatching leaves it. */
  const newDelivery = async (webhookId: WebhookId) => {
    const account = await bg().openAccount("Delivered")
    const [event] = await bg().query<{ id: string }>(
      "select id from outbox where type = 'account.created' and data->'account'->>'id' = $1",
      account.id,
    )
    const stored = await bg().runtime.runPromise(PgOutbox.findEvent(event!.id))
    await bg().runtime.runPromise(PgOutbox.createDeliveries(stored!))
    const [delivery] = await bg().query<{ id: string }>(
      "select id from webhook_deliveries where event_id = $1 and webhook_id = $2",
      event!.id,
      webhookId,
    )
    return { eventId: event!.id, deliveryId: delivery!.id }
  }

  const deliveryOf = async (webhookId: WebhookId, deliveryId: string) => {
    const page = await bg().runtime.runPromise(
      Webhooks.use((w) => w.deliveries(bg().userId, { id: webhookId, limit: 200 })),
    )
    return page.items.find((delivery) => delivery.id === deliveryId)!
  }

  const webhookOf = async (webhookId: WebhookId) => {
    const page = await bg().runtime.runPromise(
      Webhooks.use((w) => w.list(bg().userId, { limit: 200 })),
    )
    return page.items.find((webhook) => webhook.id === webhookId)!
  }

  return { bg, endpoint, newDelivery, deliveryOf, webhookOf }
}

/** Answers each attempt when the test says so, holding its request open until then. */
const heldAnswers = () => {
  const gates = new Map<number, (answer: Answer) => void>()
  return {
    answer: (attempt: number) =>
      new Promise<Answer>((resolve) => {
        gates.set(attempt, resolve)
      }),
    arrived: (attempt: number) =>
      eventually(async () => gates.get(attempt), { what: `attempt ${attempt} at the receiver` }),
  }
}

describe("two runs of one delivery", () => {
  const { bg, endpoint, newDelivery, deliveryOf } = arrange("fencing")
  // Long enough that a held request never times out during the test.
  const patient: BackgroundSettings = { ...defaultSettings, webhookTimeoutMs: 60_000 }
  /** What the rest of the system sees when the worker sending it stalls past its lease. */
  const leaseLapses = (deliveryId: string) =>
    bg().query(
      "update webhook_deliveries set lease_until = now() - interval '1 second' where id = $1",
      deliveryId,
    )
  const logOf = (delivery: Awaited<ReturnType<typeof deliveryOf>>) =>
    delivery.log.map(({ attempt, statusCode, error }) => ({ attempt, statusCode, error }))

  it("the run that takes over a lapsed lease sends the next attempt; the stale run's late failure neither frees its lease nor settles the delivery", async () => {
    const held = heldAnswers()
    const { receiver, webhook } = await endpoint(held.answer)
    const { eventId, deliveryId } = await newDelivery(webhook.id)
    const deliver = deliverWebhook(bg().runtime, patient, webhookClient)

    const stale = outcomeOf(deliver(deliveryJob(deliveryId).job))
    const answerFirst = await held.arrived(1)
    await leaseLapses(deliveryId)
    const current = outcomeOf(deliver(deliveryJob(deliveryId).job))
    const answerSecond = await held.arrived(2)

    answerFirst(500)
    expect(await stale).toMatchObject({ status: "superseded" })
    // The run that took over still holds the lease: a third run waits instead of sending.
    const third = deliveryJob(deliveryId)
    await expect(deliver(third.job)).rejects.toBeInstanceOf(DelayedError)
    expect(third.delayedUntil).toHaveLength(1)

    answerSecond(200)
    expect(await current).toMatchObject({ status: "delivered" })
    expect(receiver.requests).toEqual([
      { eventId, deliveryId, attempt: 1 },
      { eventId, deliveryId, attempt: 2 },
    ])
    const delivery = await deliveryOf(webhook.id, deliveryId)
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2, lastStatusCode: 200 })
    expect(logOf(delivery)).toEqual([
      { attempt: 1, statusCode: 500, error: "HTTP 500" },
      { attempt: 2, statusCode: 200, error: null },
    ])
    await receiver.close()
  })

  it("a 2xx that comes back to a run whose lease was taken over delivers it, and nothing is sent after", async () => {
    const held = heldAnswers()
    const { receiver, webhook } = await endpoint(held.answer)
    const { deliveryId } = await newDelivery(webhook.id)
    const deliver = deliverWebhook(bg().runtime, patient, webhookClient)

    const stale = outcomeOf(deliver(deliveryJob(deliveryId).job))
    const answerFirst = await held.arrived(1)
    await leaseLapses(deliveryId)
    const current = outcomeOf(deliver(deliveryJob(deliveryId).job))
    const answerSecond = await held.arrived(2)

    answerFirst(200)
    expect(await stale).toMatchObject({ status: "delivered" })
    answerSecond(503)
    expect(await current).toMatchObject({ status: "superseded" })
    expect(await outcomeOf(deliver(deliveryJob(deliveryId).job))).toMatchObject({
      status: "settled",
    })
    expect(receiver.requests.map((request) => request.attempt)).toEqual([1, 2])
    const delivery = await deliveryOf(webhook.id, deliveryId)
    expect(delivery).toMatchObject({ status: "delivered", attempts: 2, lastStatusCode: 200 })
    expect(logOf(delivery)).toEqual([
      { attempt: 1, statusCode: 200, error: null },
      { attempt: 2, statusCode: 503, error: "HTTP 503" },
    ])
    await receiver.close()
  })

  it("an interrupted last attempt fails the delivery instead of sending one more than allowed", async () => {
    const held = heldAnswers()
    const { receiver, webhook } = await endpoint(held.answer)
    const { deliveryId } = await newDelivery(webhook.id)
    const deliver = deliverWebhook(bg().runtime, patient, webhookClient)
    // Thirteen attempts already made: the next is the fourteenth and last.
    await bg().query("update webhook_deliveries set attempts = 13 where id = $1", deliveryId)

    const lost = deliver(deliveryJob(deliveryId).job)
    const answerLast = await held.arrived(14)
    // Its worker died: the lease lapses with nothing recorded.
    await leaseLapses(deliveryId)
    expect(await outcomeOf(deliver(deliveryJob(deliveryId).job))).toMatchObject({
      status: "settled",
    })
    expect(receiver.requests.map((request) => request.attempt)).toEqual([14])
    const delivery = await deliveryOf(webhook.id, deliveryId)
    expect(delivery).toMatchObject({
      status: "failed",
      attempts: 14,
      nextAttemptAt: null,
      lastError: "Interrupted before its outcome was recorded",
    })
    expect(delivery.log).toEqual([
      expect.objectContaining({
        attempt: 14,
        statusCode: null,
        error: "Interrupted before its outcome was recorded",
        durationMs: null,
      }),
    ])
    // Its answer, if it ever comes back, is the truth: the receiver has it.
    answerLast(200)
    expect(await outcomeOf(lost)).toMatchObject({ status: "delivered" })
    expect(await deliveryOf(webhook.id, deliveryId)).toMatchObject({
      status: "delivered",
      attempts: 14,
      lastStatusCode: 200,
    })
    await receiver.close()
  })
})

describe("the webhook defaults of docs/background.md, as the worker applies them", () => {
  const { bg, endpoint, newDelivery, deliveryOf, webhookOf } = arrange("defaults")
  const deliver = () => deliverWebhook(bg().runtime, defaultSettings, webhookClient)

  it("a delivery that always fails is tried 14 times, the next due 15 s after the first failure and doubling, then fails", async () => {
    const { receiver, webhook } = await endpoint(() => 500)
    const { deliveryId } = await newDelivery(webhook.id)
    const gaps: Array<{ readonly afterStart: number; readonly afterRecord: number }> = []
    let runs = 0
    for (; runs < 20; runs++) {
      const { status } = await outcomeOf(deliver()(deliveryJob(deliveryId).job))
      if (status !== "retry") break
      // Computed between the attempt's start and its recording, so it lies within those bounds.
      const [gap] = await bg().query<{ afterStart: number; afterRecord: number }>(
        `select (extract(epoch from d.next_attempt_at - a.at) * 1000)::float8 as after_start,
                (extract(epoch from d.next_attempt_at - d.updated_at) * 1000)::float8 as after_record
           from webhook_deliveries d
           join webhook_attempts a on a.delivery_id = d.id and a.attempt = d.attempts
          where d.id = $1`,
        deliveryId,
      )
      gaps.push(gap!)
    }
    expect(runs).toBe(13)
    const expected = [
      15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_840_000, 7_680_000,
      15_360_000, 30_720_000, 61_440_000,
    ]
    expect(gaps).toHaveLength(expected.length)
    gaps.forEach((gap, index) => {
      expect(gap.afterStart).toBeGreaterThanOrEqual(expected[index]! - 1)
      expect(gap.afterRecord).toBeLessThanOrEqual(expected[index]!)
    })
    const delivery = await deliveryOf(webhook.id, deliveryId)
    expect(delivery).toMatchObject({ status: "failed", attempts: 14, nextAttemptAt: null })
    expect(delivery.log.map((attempt) => attempt.statusCode)).toEqual(Array(14).fill(500))
    // Given up on: one more run sends nothing.
    expect(await outcomeOf(deliver()(deliveryJob(deliveryId).job))).toMatchObject({
      status: "settled",
    })
    expect(receiver.requests.map((request) => request.attempt)).toEqual(
      Array.from({ length: 14 }, (_, index) => index + 1),
    )
    await receiver.close()
  })

  it("disables an endpoint whose every delivery has failed for 3 days, not before", async () => {
    const { receiver, webhook } = await endpoint(() => 500)
    const { deliveryId } = await newDelivery(webhook.id)
    const failingFor = (interval: string) =>
      bg().query(
        `update webhooks set failing_since = now() - $2::interval where id = $1`,
        webhook.id,
        interval,
      )

    await failingFor("2 days 23 hours 59 minutes")
    expect(await outcomeOf(deliver()(deliveryJob(deliveryId).job))).toEqual(
      expect.objectContaining({ status: "retry" }),
    )
    expect(await webhookOf(webhook.id)).toMatchObject({ status: "active", disabledReason: null })

    await failingFor("3 days 1 minute")
    await outcomeOf(deliver()(deliveryJob(deliveryId).job))
    expect((await webhookOf(webhook.id)).disabledReason).toMatch(
      /^Disabled after failing every delivery since .*; last error: HTTP 500$/,
    )
    expect(await outcomeOf(deliver()(deliveryJob(deliveryId).job))).toMatchObject({
      status: "failed",
    })
    expect(receiver.requests).toHaveLength(2)
    await receiver.close()
  })
})

describe.each(backends)("delivery jobs on $name", ({ redisUrl, skipped }) => {
  const { bg, endpoint, newDelivery } = arrange("jobs", { redisUrl, skipped })

  it.skipIf(skipped)(
    "get 14 attempts, each retried when the delivery log says its next attempt is due",
    async () => {
      const { receiver, webhook } = await endpoint(() => 200)
      const { eventId, deliveryId } = await newDelivery(webhook.id)
      // Dispatched as the worker does it, onto the real queue.
      const webhooks = bg().queues.queue(Queues.webhooks)
      const exports = bg().queues.queue(Queues.exports)
      await dispatchEvent(
        bg().runtime,
        { webhooks, exports },
        defaultSettings,
      )(jobOf(JobNames.dispatchEvent, { eventId }).job)
      const job = await inspect(webhooks).getJob(deliveryId)
      expect(job?.opts).toMatchObject({ attempts: 14, backoff: { type: "delivery-log" } })
      // BullMQ's own calculation, with the workers' strategy: the wait is the log's, whatever
      // the attempt's number; a failure that recorded no attempt retries within seconds.
      const waitAfter = (attempt: number, error: Error) =>
        Backoffs.calculate(
          job!.opts.backoff as BackoffOptions,
          attempt,
          error,
          job!,
          backoffStrategy,
        ) as Promise<number>
      for (const [attempt, dueInMs] of [
        [1, 15_000],
        [7, 960_000],
        [13, 61_440_000],
      ] as const) {
        const wait = await waitAfter(
          attempt,
          new DeliveryFailed("HTTP 500", new Date(Date.now() + dueInMs)),
        )
        expect(wait).toBeGreaterThan(dueInMs - 1_000)
        expect(wait).toBeLessThanOrEqual(dueInMs)
      }
      expect(await waitAfter(1, new Error("database down"))).toBe(1_000)
      expect(await waitAfter(20, new Error("database down"))).toBe(300_000)
      await webhooks.close()
      await exports.close()
      await receiver.close()
    },
  )
})
