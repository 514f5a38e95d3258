import { Accounts, type Currency, InsufficientFunds, Transactions, Transfers } from "@txn/domain"
import { JobNames, type JobQueue, Queues } from "@txn/queue"
import { eventually } from "@txn/testing"
import { UnrecoverableError } from "bullmq"
import { Effect, Exit } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliveryJobOptions, eventJobOptions } from "../src/jobOptions.ts"
import { reclaimDeliveries, relayBatch } from "../src/Relay.ts"
import { defaultSettings } from "../src/settings.ts"
import { backends, inspect } from "./backends.ts"
import { type Background, startBackground } from "./background.ts"

interface OutboxRow {
  readonly id: string
  readonly type: string
  readonly data: Record<string, unknown>
  readonly relayedAt: Date | null
  readonly dispatchedAt: Date | null
}

describe("the outbox, written with every change", () => {
  let bg: Background
  beforeAll(async () => {
    bg = await startBackground({ redisUrl: undefined, workers: false, label: "outbox" })
  })
  afterAll(async () => {
    await bg.close()
  })

  const events = () =>
    bg.query<OutboxRow>("select id, type, data, relayed_at, dispatched_at from outbox order by seq")

  const use = <A, E>(effect: Effect.Effect<A, E, Accounts | Transactions | Transfers>) =>
    bg.runtime.runPromise(effect)

  it("records one event per change, in the same database transaction, with the object as the API shows it", async () => {
    const before = (await events()).length
    const account = await bg.openAccount("Outboxed")
    const other = await bg.openAccount("Other")
    const renamed = await use(
      Accounts.use((a) => a.update(bg.userId, { id: account.id, name: "Renamed" })),
    )
    const hold = await use(
      Transactions.use((t) =>
        t.create(bg.userId, bg.transaction(account, { status: "pending", direction: "debit" })),
      ),
    )
    const voided = await use(
      Transactions.use((t) => t.void(bg.userId, { id: hold.id, expectedVersion: 1 })),
    )
    const credit = await use(Transactions.use((t) => t.create(bg.userId, bg.transaction(account))))
    const updated = await use(
      Transactions.use((t) =>
        t.update(bg.userId, { id: credit.id, expectedVersion: 1, description: "Edited" }),
      ),
    )
    const reversal = await use(
      Transactions.use((t) => t.reverse(bg.userId, { id: credit.id, expectedVersion: 2 })),
    )
    const transfer = await use(
      Transfers.use((t) =>
        t.create(bg.userId, {
          fromAccountId: account.id,
          toAccountId: other.id,
          amount: 10,
          currency: "EUR" as Currency,
        }),
      ),
    )
    const written = (await events()).slice(before)
    expect(written.map((event) => event.type)).toEqual([
      "account.created",
      "account.created",
      "account.updated",
      "transaction.created",
      "transaction.voided",
      "transaction.created",
      "transaction.updated",
      "transaction.created",
      "transaction.reversed",
      "transaction.created",
      "transaction.created",
      "transfer.created",
    ])
    // Balance changes alone (every posting above) make no account event.
    expect(written.every((event) => /^evt_[0-9a-z]{26}$/.test(event.id))).toBe(true)
    expect(written[2]!.data).toEqual({ account: renamed })
    expect(written[4]!.data).toEqual({
      transaction: voided,
      changes: { status: { from: "pending", to: "voided" } },
    })
    expect(written[6]!.data).toMatchObject({ transaction: updated })
    expect(written[7]!.data).toMatchObject({ transaction: reversal.reversal })
    expect(written[8]!.data).toMatchObject({ transaction: reversal.original })
    expect(written[11]!.data).toEqual({ transfer })
  })

  it("records nothing for a change that did not commit", async () => {
    const poor = await use(
      Accounts.use((a) =>
        a.create(bg.userId, { name: "No overdraft", currency: "EUR" as Currency }),
      ),
    )
    const before = (await events()).length
    const refused = await bg.runtime.runPromiseExit(
      Transactions.use((t) =>
        t.create(bg.userId, bg.transaction(poor, { direction: "debit", amount: 5 })),
      ),
    )
    expect(Exit.isFailure(refused) && Exit.hasFails(refused)).toBe(true)
    // A write rolled back after its event was written takes the event with it.
    const rolledBack = await bg.runtime.runPromiseExit(
      SqlClient.SqlClient.use((sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            yield* Accounts.use((a) => a.update(bg.userId, { id: poor.id, name: "Never" }))
            return yield* Effect.fail(
              new InsufficientFunds({
                message: "abort",
                accountId: poor.id,
                available: 0,
                requested: 1,
              }),
            )
          }),
        ),
      ),
    )
    expect(Exit.isFailure(rolledBack)).toBe(true)
    expect((await events()).length).toBe(before)
  })
})

describe.each(backends)("the relay with $name", ({ redisUrl, skipped }) => {
  let bg: Background
  beforeAll(async () => {
    if (skipped) return
    bg = await startBackground({ redisUrl, workers: false, label: "relay" })
  })
  afterAll(async () => {
    if (!skipped) await bg.close()
  })

  const row = async (id: string) =>
    (
      await bg.query<OutboxRow>(
        "select id, type, data, relayed_at, dispatched_at from outbox where id = $1",
        id,
      )
    )[0]!

  it.skipIf(skipped)(
    "never enqueues an event twice, even one a previous relay enqueued but died before marking",
    async () => {
      const events = bg.queues.queue(Queues.events)
      await bg.openAccount("Relayed once")
      const [pending] = await bg.query<{ id: string }>(
        "select id from outbox where relayed_at is null",
      )
      // As if a relay had enqueued it and died before its transaction committed.
      await events.add(
        JobNames.dispatchEvent,
        { eventId: pending!.id },
        { ...eventJobOptions, jobId: pending!.id },
      )
      const settings = { ...defaultSettings, relayBatch: 10 }
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBeGreaterThanOrEqual(1)
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBe(0)
      expect((await row(pending!.id)).relayedAt).not.toBeNull()
      const jobs = await inspect(events).getJobs(["waiting", "delayed", "active"])
      expect(jobs.filter((job) => job.id === pending!.id)).toHaveLength(1)
      await events.close()
    },
  )

  it.skipIf(skipped)(
    "hands an event over again when its job was lost and never finished",
    async () => {
      const events = bg.queues.queue(Queues.events)
      await bg.openAccount("Lost job")
      const settings = { ...defaultSettings, relayBatch: 100, relayStaleMs: 200 }
      await bg.runtime.runPromise(relayBatch(events, settings))
      const [relayed] = await bg.query<{ id: string }>(
        "select id from outbox where relayed_at is not null and dispatched_at is null order by seq desc limit 1",
      )
      // The queue loses its data.
      await inspect(events).obliterate({ force: true })
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBeGreaterThanOrEqual(1)
      expect(await inspect(events).getJob(relayed!.id)).toBeDefined()
      await events.close()
    },
  )

  /** Lets one consumer fail every job on `queue` for good, as exhausted retries or stalls do. */
  const failForGood = async (queue: JobQueue, jobId: string) => {
    const worker = bg.queues.worker(queue.name, async () => {
      throw new UnrecoverableError("failed for good")
    })
    await eventually(async () =>
      (await (await inspect(queue).getJob(jobId))?.getState()) === "failed" ? true : undefined,
    )
    await worker.close()
  }

  it.skipIf(skipped)(
    "hands an event over again when its job failed for good without dispatching it",
    async () => {
      const events = bg.queues.queue(Queues.events)
      await bg.openAccount("Failed job")
      const settings = { ...defaultSettings, relayBatch: 100, relayStaleMs: 200 }
      await bg.runtime.runPromise(relayBatch(events, settings))
      const [relayed] = await bg.query<{ id: string }>(
        "select id from outbox where relayed_at is not null and dispatched_at is null order by seq desc limit 1",
      )
      await failForGood(events, relayed!.id)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBeGreaterThanOrEqual(1)
      expect(await (await inspect(events).getJob(relayed!.id))?.getState()).toBe("waiting")
      await events.close()
    },
  )

  it.skipIf(skipped)(
    "enqueues a pending delivery again when its job failed for good without settling it",
    async () => {
      const webhooks = bg.queues.queue(Queues.webhooks)
      const webhook = await bg.createWebhook({
        url: "http://127.0.0.1:9/hooks",
        eventTypes: ["account.created"],
      })
      const account = await bg.openAccount("Failed delivery")
      const [delivery] = await bg.query<{ id: string }>(
        `insert into webhook_deliveries (id, webhook_id, event_id, next_attempt_at, created_at, updated_at)
         select txn_random_id('dlv'), $1, id, now() - interval '10 minutes', now(), now()
           from outbox where data -> 'account' ->> 'id' = $2
         returning id`,
        webhook.id,
        account.id,
      )
      await webhooks.add(
        JobNames.deliverWebhook,
        { deliveryId: delivery!.id },
        deliveryJobOptions(defaultSettings, delivery!.id),
      )
      await failForGood(webhooks, delivery!.id)
      const settings = { ...defaultSettings, relayStaleMs: 60_000 }
      expect(await bg.runtime.runPromise(reclaimDeliveries(webhooks, settings))).toBe(1)
      expect(await (await inspect(webhooks).getJob(delivery!.id))?.getState()).toBe("waiting")
      await webhooks.close()
    },
  )

  it.skipIf(skipped)(
    "is woken by NOTIFY on commit, and polls for events written without one",
    async () => {
      await bg.startWorkers({ relayPollMs: 60_000 })
      // Past the relay's first pass at start: from now on only a notification wakes it.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const account = await bg.openAccount("Notified")
      const [notified] = await bg.query<{ id: string }>(
        "select id from outbox where data -> 'account' ->> 'id' = $1",
        account.id,
      )
      await eventually(
        async () => ((await row(notified!.id)).dispatchedAt !== null ? true : undefined),
        {
          what: "the notified event to be dispatched long before the next poll",
          timeoutMs: 15_000,
        },
      )
      await bg.stopWorkers()

      await bg.startWorkers({ relayPollMs: 300 })
      // A plain INSERT notifies nobody: only polling finds it.
      const [silent] = await bg.query<{ id: string }>(
        `insert into outbox (id, user_id, type, data, created_at)
         values (txn_random_id('evt'), $1, 'account.updated', '{"account": {}}', now()) returning id`,
        bg.userId,
      )
      await eventually(
        async () => ((await row(silent!.id)).dispatchedAt !== null ? true : undefined),
        {
          what: "the silent event to be found by polling",
        },
      )
      await bg.stopWorkers()
    },
  )
})
