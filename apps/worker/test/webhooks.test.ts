import { type Account, Exports, Transactions, type WebhookId, Webhooks } from "@txn/domain"
import { eventually, queueBackends } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  type Background,
  fastSettings,
  startBackground,
  startBackgroundUser,
} from "./background.ts"
import { type Answer, connectionFailed, startReceiver } from "./receiver.ts"

const backends = queueBackends()

describe.each(backends)("webhooks with $name", ({ redisUrl, skipped }) => {
  let bg: Background
  let account: Account

  beforeAll(async () => {
    if (skipped) return
    bg = await startBackground({ redisUrl, label: "webhooks" })
    account = await bg.openAccount()
  })
  afterAll(async () => {
    if (!skipped) await bg.close()
  })

  /** A receiver with a webhook of its own on it, its secret known to the receiver only. */
  const endpoint = async (
    eventTypes: ReadonlyArray<string>,
    answer?: Parameters<typeof startReceiver>[0],
  ) => {
    const receiver = await startReceiver(answer)
    const webhook = await bg.createWebhook({ url: receiver.url, eventTypes: [...eventTypes] })
    receiver.useSecret(webhook.secret)
    return { receiver, webhook }
  }

  const deliveries = (id: WebhookId) =>
    bg.runtime.runPromise(
      Webhooks.use((webhooks) => webhooks.deliveries(bg.userId, { id, limit: 200 })),
    )

  const settled = async (id: WebhookId, count: number) =>
    eventually(
      async () => {
        const page = await deliveries(id)
        return page.items.length >= count && page.items.every((d) => d.status !== "pending")
          ? page.items
          : undefined
      },
      { what: `${count} settled deliveries`, timeoutMs: 30_000 },
    )

  it.skipIf(skipped)(
    "delivers each subscribed event once, signed, carrying its id in the body and a header",
    async () => {
      const { receiver, webhook } = await endpoint(["transaction.created", "transaction.posted"])
      const create = (fields: Record<string, unknown>) =>
        bg.runtime.runPromise(
          Transactions.use((t) => t.create(bg.userId, bg.transaction(account, fields))),
        )
      const hold = await create({ status: "pending", description: "Hold" })
      const posted = await bg.runtime.runPromise(
        Transactions.use((t) => t.post(bg.userId, { id: hold.id, expectedVersion: hold.version })),
      )
      await create({ description: "Salary" })
      // Not subscribed to: no delivery.
      await bg.runtime.runPromise(
        Transactions.use((t) =>
          t.update(bg.userId, { id: posted.id, expectedVersion: posted.version, category: "x" }),
        ),
      )

      const items = await settled(webhook.id, 3)
      expect(items.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered"])
      expect(receiver.rejected).toEqual([])
      expect(receiver.received.map((r) => r.event.type).sort()).toEqual([
        "transaction.created",
        "transaction.created",
        "transaction.posted",
      ])
      const ids = receiver.received.map((r) => r.event.id)
      expect(new Set(ids).size).toBe(3)
      for (const { event, headers } of receiver.received) {
        expect(event.id).toMatch(/^evt_[0-9a-z]{26}$/)
        expect(headers["txn-event-id"]).toBe(event.id)
        expect(headers["txn-event-type"]).toBe(event.type)
        expect(headers["txn-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
      }
      // The event carries the transaction exactly as the API shows it at that version.
      const postedEvent = receiver.received.find((r) => r.event.type === "transaction.posted")!
      expect(postedEvent.event.data).toEqual({
        transaction: posted,
        changes: { status: { from: "pending", to: "posted" } },
      })
      await receiver.close()
    },
  )

  it.skipIf(skipped)(
    "retries a failing endpoint with growing delays, logging every status code, until it answers 2xx",
    async () => {
      const answers: Array<Answer> = [500, 503, 200]
      const { receiver, webhook } = await endpoint(
        ["account.created"],
        (_event, attempt) => answers[attempt - 1] ?? 200,
      )
      await bg.openAccount("Retried")
      const [delivery] = await settled(webhook.id, 1)
      expect(delivery).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200 })
      expect(delivery!.log.map((a) => a.statusCode)).toEqual([500, 503, 200])
      expect(delivery!.log.map((a) => a.error)).toEqual(["HTTP 500", "HTTP 503", null])
      // Backoff: at least the first delay, then at least double it (lower bounds only).
      const at = delivery!.log.map((a) => Date.parse(a.at))
      const base = fastSettings.webhookBackoffMs!
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(base - 20)
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2 * base - 20)
      expect(receiver.received).toHaveLength(1)
      await receiver.close()
    },
  )

  it.skipIf(skipped)(
    "gives up after the last attempt and records the delivery as failed, with network errors logged",
    async () => {
      const { receiver, webhook } = await endpoint(["account.created"], () => 500)
      await receiver.close()
      await bg.openAccount("Unreachable")
      const [delivery] = await settled(webhook.id, 1)
      expect(delivery).toMatchObject({
        status: "failed",
        attempts: fastSettings.webhookAttempts,
        nextAttemptAt: null,
        lastStatusCode: null,
      })
      expect(delivery!.log).toHaveLength(fastSettings.webhookAttempts!)
      // A closed port reads like any other failure to connect: the log names no errno.
      expect(delivery!.log.map((a) => a.error)).toEqual(
        Array(fastSettings.webhookAttempts).fill(connectionFailed),
      )
      const [listed] = (
        await bg.runtime.runPromise(Webhooks.use((w) => w.list(bg.userId, {})))
      ).items.filter((w) => w.id === webhook.id)
      // Failing, but not for long enough to be disabled.
      expect(listed).toMatchObject({ status: "active", disabledReason: null })
      expect(listed!.failingSince).not.toBeNull()
    },
  )

  it.skipIf(skipped)(
    "disables an endpoint that has failed for longer than the limit, says why, and sends it nothing more",
    async () => {
      let healthy = false
      const { receiver, webhook } = await endpoint(["account.created"], () => (healthy ? 200 : 500))
      // Failing for four days already.
      await bg.query(
        "update webhooks set failing_since = now() - interval '4 days' where id = $1",
        webhook.id,
      )
      await bg.openAccount("Disabling")
      await settled(webhook.id, 1)
      const listed = await eventually(async () => {
        const page = await bg.runtime.runPromise(Webhooks.use((w) => w.list(bg.userId, {})))
        const found = page.items.find((w) => w.id === webhook.id)
        return found?.status === "disabled" ? found : undefined
      })
      expect(listed.disabledReason).toMatch(
        /^Disabled after failing every delivery since \d{4}-\d\d-\d\dT.*Z; last error: HTTP 500$/,
      )
      const arrivals = receiver.arrivals.length
      expect(arrivals).toBe(1)
      await bg.openAccount("After disabling")
      // No delivery is even created for a disabled endpoint.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect((await deliveries(webhook.id)).items).toHaveLength(1)
      expect(receiver.arrivals).toHaveLength(arrivals)

      // Fixed and turned back on: the next event is delivered.
      const resumed = await bg.runtime.runPromise(
        Webhooks.use((w) => w.update(bg.userId, { id: webhook.id, status: "active" })),
      )
      expect(resumed).toMatchObject({ status: "active", disabledReason: null, failingSince: null })
      healthy = true
      await bg.openAccount("After enabling")
      await eventually(async () => (receiver.received.length === 1 ? true : undefined), {
        what: "the re-enabled endpoint to receive the next event",
      })
      await receiver.close()
    },
  )

  it.skipIf(skipped)(
    "builds an export once its export.created event is dispatched, and delivers export.completed",
    async () => {
      const { receiver } = await endpoint(["export.created", "export.completed"])
      await bg.runtime.runPromise(
        Transactions.use((t) =>
          t.create(bg.userId, bg.transaction(account, { description: "Exported" })),
        ),
      )
      const created = await bg.runtime.runPromise(
        Exports.use((e) => e.create(bg.userId, { accountId: account.id })),
      )
      expect(created.status).toBe("queued")
      const completed = await eventually(
        async () => {
          const current = await bg.runtime.runPromise(
            Exports.use((e) => e.get(bg.userId, { id: created.id })),
          )
          return current.status === "completed" ? current : undefined
        },
        { what: "the export to be built by the worker", timeoutMs: 30_000 },
      )
      expect(completed.rowsWritten).toBeGreaterThanOrEqual(1)
      await eventually(async () => (receiver.received.length === 2 ? true : undefined))
      expect(receiver.received.map((r) => r.event.type).sort()).toEqual([
        "export.completed",
        "export.created",
      ])
      const done = receiver.received.find((r) => r.event.type === "export.completed")!
      expect(done.event.data).toEqual({ export: completed })
      await receiver.close()
    },
  )

  it.skipIf(skipped)("delivers a user's events to that user's endpoints only", async () => {
    const { receiver } = await endpoint(["*"])
    const stranger = await startBackgroundUser(bg)
    const strangers = await startReceiver()
    const hook = await bg.runtime.runPromise(
      Webhooks.use((w) => w.create(stranger, { url: strangers.url, eventTypes: ["*"] })),
    )
    strangers.useSecret(hook.secret)
    const mine = await bg.openAccount("Mine only")
    await eventually(async () =>
      receiver.received.some(
        (r) => (r.event.data as { account?: { id: string } }).account?.id === mine.id,
      )
        ? true
        : undefined,
    )
    expect(strangers.arrivals).toEqual([])
    await receiver.close()
    await strangers.close()
  })

  it.skipIf(skipped)("sends a deleted endpoint nothing more", async () => {
    const { receiver, webhook } = await endpoint(["*"])
    // Accounts opened, by name, each once (delivery is at least once); the user's events of
    // earlier tests still on their way may reach the new endpoint too, and are not what this test
    // is about.
    const opened = () => [
      ...new Set(
        receiver.received
          .filter((r) => r.event.type === "account.created")
          .map((r) => (r.event.data as { account: { name: string } }).account.name),
      ),
    ]
    await bg.openAccount("Before delete")
    await eventually(async () => (opened().includes("Before delete") ? true : undefined))
    await bg.runtime.runPromise(Webhooks.use((w) => w.delete(bg.userId, { id: webhook.id })))
    await bg.openAccount("After delete")
    const marker = await endpoint(["account.created"])
    await bg.openAccount("Marker")
    // Once a later event reached another endpoint, the deleted one's would have too.
    await eventually(async () => (marker.receiver.received.length >= 1 ? true : undefined))
    expect(opened()).toEqual(["Before delete"])
    await receiver.close()
    await marker.receiver.close()
  })
})

describe.each(backends)("a slow receiver with $name", ({ redisUrl, skipped }) => {
  const open = 50
  let bg: Background
  beforeAll(async () => {
    if (skipped) return
    // Long enough for every request to be open at once on a busy machine.
    bg = await startBackground({
      redisUrl,
      label: "slowreceiver",
      settings: { webhookTimeoutMs: 20_000 },
    })
  })
  afterAll(async () => {
    if (!skipped) await bg.close()
  })

  it.skipIf(skipped)(
    `gets ${open} deliveries at once, not one batch of twenty after another`,
    async () => {
      // Answers nothing until `open` requests wait at once, then all of them: a receiver taking
      // its time, which only deliveries in flight together get through on their first attempt.
      let waiting = 0
      let release: () => void = () => {}
      const all = new Promise<void>((resolve) => {
        release = resolve
      })
      const receiver = await startReceiver(async () => {
        waiting += 1
        if (waiting === open) release()
        await all
        return 200
      })
      const webhook = await bg.createWebhook({
        url: receiver.url,
        eventTypes: ["transaction.created"],
      })
      receiver.useSecret(webhook.secret)
      const account = await bg.openAccount()
      await bg.runtime.runPromise(
        Transactions.use((t) =>
          t.createMany(bg.userId, {
            transactions: Array.from({ length: open }, () => bg.transaction(account)),
          }),
        ),
      )
      await eventually(async () => (receiver.received.length >= open ? true : undefined), {
        what: `${open} deliveries`,
        timeoutMs: 25_000,
      })
      expect(receiver.requests.map((request) => request.attempt)).toEqual(
        Array.from({ length: open }, () => 1),
      )
      await receiver.close()
    },
  )
})
