import { PgClient } from "@effect/sql-pg"
import { PgOutbox } from "@txn/db"
import {
  type Account,
  Accounts,
  type Currency,
  InsufficientFunds,
  type TransactionId,
  Transactions,
  Transfers,
} from "@txn/domain"
import { JobNames, type JobQueue, type QueueHandle, Queues } from "@txn/queue"
import { eventually, finishedJob, inspect, queueBackends } from "@txn/testing"
import { UnrecoverableError } from "bullmq"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deliveryJobOptions } from "../src/jobOptions.ts"
import {
  reclaimDeliveries,
  relayBatch,
  relayHistoryBatch,
  relayStaleHistory,
} from "../src/Relay.ts"
import { defaultSettings } from "../src/settings.ts"
import { type Background, startBackground } from "./background.ts"

const backends = queueBackends()

interface OutboxRow {
  readonly id: string
  readonly type: string
  readonly data: Record<string, unknown>
  readonly relayedAt: Date | null
  readonly dispatchedAt: Date | null
}

describe("the events, written with every change", () => {
  let bg: Background
  beforeAll(async () => {
    bg = await startBackground({ redisUrl: undefined, workers: false, label: "outbox" })
  })
  afterAll(async () => {
    await bg.close()
  })

  const outbox = () =>
    bg.query<OutboxRow>("select id, type, data, relayed_at, dispatched_at from outbox order by seq")
  /** History events, as webhooks see them, in the order they were written. */
  const history = () =>
    bg.query<{ id: string; type: string; data: Record<string, unknown> }>(
      "select id, type, data from events where type like 'transaction.%' order by id",
    )

  const use = <A, E>(effect: Effect.Effect<A, E, Accounts | Transactions | Transfers>) =>
    bg.runtime.runPromise(effect)

  it("records one event per change, in the same database transaction, with the object as the API shows it", async () => {
    const before = (await outbox()).length
    const historyBefore = (await history()).length
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
    // Accounts and transfers keep their outbox rows; balance changes alone make no account event.
    const written = (await outbox()).slice(before)
    expect(written.map((event) => event.type)).toEqual([
      "account.created",
      "account.created",
      "account.updated",
      "transfer.created",
    ])
    expect(written[2]!.data).toEqual({ account: renamed })
    expect(written[3]!.data).toEqual({ transfer })
    // Transaction events come from the history, as the same objects the outbox used to carry.
    const changes = (await history()).slice(historyBefore)
    expect(changes.map((event) => event.type)).toEqual([
      "transaction.created",
      "transaction.voided",
      "transaction.created",
      "transaction.updated",
      "transaction.created",
      "transaction.reversed",
      "transaction.created",
      "transaction.created",
    ])
    expect([...written, ...changes].every((event) => /^evt_[0-9a-z]{26}$/.test(event.id))).toBe(
      true,
    )
    expect(changes[0]!.data).toMatchObject({ transaction: { ...hold, version: 1 } })
    expect(changes[1]!.data).toEqual({
      transaction: voided,
      changes: { status: { from: "pending", to: "voided" } },
    })
    expect(changes[3]!.data).toMatchObject({ transaction: updated })
    expect(changes[4]!.data).toMatchObject({ transaction: reversal.reversal })
    expect(changes[5]!.data).toMatchObject({ transaction: reversal.original })
  })

  it("records nothing for a change that did not commit", async () => {
    const poor = await use(
      Accounts.use((a) =>
        a.create(bg.userId, { name: "No overdraft", currency: "EUR" as Currency }),
      ),
    )
    const before = (await outbox()).length
    const historyBefore = (await history()).length
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
    expect((await outbox()).length).toBe(before)
    expect((await history()).length).toBe(historyBefore)
  })

  it("writes no outbox row for a transaction change and notifies nobody on commit", async () => {
    const account = await bg.openAccount("Quiet")
    const heard: Array<string> = []
    const listening = Deferred.makeUnsafe<void>()
    const listener = bg.runtime.runFork(
      Effect.scoped(
        Effect.gen(function* () {
          const pg = yield* PgClient.PgClient
          const notifications = yield* pg.listen("txn_outbox")
          yield* Deferred.succeed(listening, undefined)
          for (;;) heard.push((yield* Queue.take(notifications)).payload)
        }),
      ),
    )
    await bg.runtime.runPromise(Deferred.await(listening))
    const before = await outbox()
    const credit = await use(Transactions.use((t) => t.create(bg.userId, bg.transaction(account))))
    await use(
      Transactions.use((t) =>
        t.update(bg.userId, { id: credit.id, expectedVersion: 1, description: "Quiet edit" }),
      ),
    )
    // Notifications arrive in commit order: any the writes sent would come before this one.
    await bg.query("select pg_notify('txn_outbox', 'after the writes')")
    await eventually(async () => (heard.length > 0 ? true : undefined))
    await bg.runtime.runPromise(Fiber.interrupt(listener))
    expect(heard).toEqual(["after the writes"])
    expect((await outbox()).length).toBe(before.length)
    // Nor does any function of the schema (triggers included) notify on any channel, but the
    // trigger on API keys: their changes are rare, and every API process must hear them.
    const notifying = await bg.query<{ proname: string }>(
      `select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = current_schema() and p.prosrc ~* '(pg_notify|\\mnotify\\M)'
          and p.oid not in (select tgfoid from pg_trigger where tgrelid = 'api_keys'::regclass)`,
    )
    expect(notifying).toEqual([])
  })

  /** What the outbox trigger wrote for the latest change of a transaction, computed as it did. */
  const asTheOutboxWrote = async (transactionId: string) =>
    (
      await bg.query<{ data: string }>(
        `select jsonb_build_object('transaction', txn_transaction_json(t), 'changes', e.changes)::text
                  as data
           from transaction_events e join transactions t on t.id = e.transaction_id
          where e.transaction_id = $1 order by e.version desc limit 1`,
        transactionId,
      )
    )[0]!.data

  it("gives each event the transaction as it stood right after that change, for every kind, whatever came later", async () => {
    const account = await bg.openAccount("Every kind")
    const expected = new Map<string, string>()
    const record = async (transactionId: string) => {
      const [event] = await bg.query<{ seq: string }>(
        "select seq::text as seq from transaction_events where transaction_id = $1 order by version desc limit 1",
        transactionId,
      )
      expected.set(PgOutbox.historyEventId(event!.seq), await asTheOutboxWrote(transactionId))
    }
    const soon = new Date(Date.now() + 1_000).toISOString()
    const expiring = await use(
      Transactions.use((t) =>
        t.create(
          bg.userId,
          bg.transaction(account, {
            status: "pending",
            direction: "debit",
            amount: 250,
            expiresAt: soon,
            description: "Expiring hold",
            metadata: { order: "A-1", tags: "x,y" },
          }),
        ),
      ),
    )
    await record(expiring.id)
    const posting = await use(
      Transactions.use((t) =>
        t.create(
          bg.userId,
          bg.transaction(account, {
            status: "pending",
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            category: "rent",
            counterparty: "Landlord",
            reference: "R-7",
            occurredAt: "2026-03-04T05:06:07.089+02:00",
          }),
        ),
      ),
    )
    await record(posting.id)
    await use(
      Transactions.use((t) =>
        t.update(bg.userId, {
          id: posting.id,
          expectedVersion: 1,
          description: "Rent, March",
          metadata: { month: "March" },
        }),
      ),
    )
    await record(posting.id)
    await use(Transactions.use((t) => t.post(bg.userId, { id: posting.id, expectedVersion: 2 })))
    await record(posting.id)
    await use(
      Transactions.use((t) =>
        t.update(bg.userId, { id: posting.id, expectedVersion: 3, category: null }),
      ),
    )
    await record(posting.id)
    const reversal = await use(
      Transactions.use((t) => t.reverse(bg.userId, { id: posting.id, expectedVersion: 4 })),
    )
    await record(posting.id)
    await record(reversal.reversal.id)
    await use(
      Transactions.use((t) =>
        t.update(bg.userId, { id: reversal.reversal.id, expectedVersion: 1, reference: "Undo" }),
      ),
    )
    await record(reversal.reversal.id)
    const voiding = await use(
      Transactions.use((t) =>
        t.create(bg.userId, bg.transaction(account, { status: "pending", direction: "debit" })),
      ),
    )
    await record(voiding.id)
    await use(Transactions.use((t) => t.void(bg.userId, { id: voiding.id, expectedVersion: 1 })))
    await record(voiding.id)
    await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 50))
    expect(await use(Transactions.use((t) => t.expire(expiring.id)))).toBe("voided")
    await record(expiring.id)

    const kinds = await bg.query<{ kind: string }>(
      "select distinct kind from transaction_events where transaction_id = any($1) order by kind",
      [expiring.id, posting.id, reversal.reversal.id, voiding.id],
    )
    expect(kinds.map((row) => row.kind)).toEqual([
      "created",
      "expired",
      "posted",
      "reversed",
      "updated",
      "voided",
    ])
    expect(expected.size).toBe(11)
    for (const [id, old] of expected) {
      const event = await bg.runtime.runPromise(PgOutbox.findEvent(id))
      // The same JSON text: the same fields, values and order as the outbox row had.
      expect({ id, data: JSON.stringify(event!.data) }).toEqual({
        id,
        data: JSON.stringify(JSON.parse(old)),
      })
      const [viaSql] = await bg.query<{ data: string }>(
        "select data::text as data from txn_event($1)",
        id,
      )
      expect(viaSql!.data).toBe(old)
    }
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

  /** The dispatch jobs on `events` whose batch holds `eventId`, in any state. */
  const jobsHolding = async (events: QueueHandle, eventId: string) =>
    (await inspect(events).getJobs(["waiting", "delayed", "active", "completed", "failed"])).filter(
      (job) =>
        job.name === JobNames.dispatchEvents &&
        (job.data as { eventIds: ReadonlyArray<string> }).eventIds.includes(eventId),
    )

  const jobHolding = async (events: QueueHandle, eventId: string) => {
    const [job, ...others] = await jobsHolding(events, eventId)
    expect(others).toHaveLength(0)
    return job
  }

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
      const settings = { ...defaultSettings, relayBatch: 10 }
      // As if a relay had enqueued its batch and died before its transaction committed.
      const died = await bg.runtime.runPromiseExit(
        SqlClient.SqlClient.use((sql) =>
          sql.withTransaction(
            relayBatch(events, settings).pipe(Effect.andThen(Effect.fail("died"))),
          ),
        ),
      )
      expect(Exit.isFailure(died)).toBe(true)
      expect((await row(pending!.id)).relayedAt).toBeNull()
      expect(await jobsHolding(events, pending!.id)).toHaveLength(1)
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBeGreaterThanOrEqual(1)
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBe(0)
      expect((await row(pending!.id)).relayedAt).not.toBeNull()
      expect(await jobsHolding(events, pending!.id)).toHaveLength(1)
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
      expect(await jobHolding(events, relayed!.id)).toBeDefined()
      await events.close()
    },
  )

  /** Lets one consumer fail every job on `queue` for good, as exhausted retries or stalls do. */
  const failForGood = async (queue: QueueHandle, jobId: string) => {
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
      await failForGood(events, (await jobHolding(events, relayed!.id))!.id!)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await bg.runtime.runPromise(relayBatch(events, settings))).toBeGreaterThanOrEqual(1)
      const again = await jobsHolding(events, relayed!.id)
      expect(await Promise.all(again.map((job) => job.getState()))).toContain("waiting")
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

  const historyOf = async (transactionId: string) =>
    (
      await bg.query<{ seq: string }>(
        "select seq::text as seq from transaction_events where transaction_id = $1 order by version",
        transactionId,
      )
    ).map((event) => PgOutbox.historyEventId(event.seq))

  const createIn = (account: Account) =>
    Transactions.use((t) => t.create(bg.userId, bg.transaction(account)))

  /** Every history event the relay hands over, pass after pass, until one finds nothing. */
  const drainHistory = async (events: JobQueue<"events">) => {
    const relayed: Array<string> = []
    for (;;) {
      const batch = await bg.runtime.runPromise(
        relayHistoryBatch(events, { ...defaultSettings, relayBatch: 3 }),
      )
      relayed.push(...batch.events.map((event) => event.id))
      if (batch.count === 0) return relayed
    }
  }

  /**
   * What the relay hands over until `expected` all were: a transaction running anywhere on the
   * server (other databases' included) holds the history back until it ends.
   */
  const relayUntil = async (events: JobQueue<"events">, expected: ReadonlyArray<string>) => {
    const relayed: Array<string> = []
    await eventually(
      async () => {
        relayed.push(...(await drainHistory(events)))
        return expected.every((id) => relayed.includes(id)) ? true : undefined
      },
      { what: "the history events to be handed over" },
    )
    return relayed
  }

  it.skipIf(skipped)(
    "hands over history events committed out of order once each, in the change feed's order, only once nothing can commit before them",
    async () => {
      const events = bg.queues.queue(Queues.events)
      const account = await bg.openAccount("Out of order")
      const others = [await bg.openAccount("Second"), await bg.openAccount("Third")]
      await drainHistory(events)
      const started = Deferred.makeUnsafe<TransactionId>()
      const gate = Deferred.makeUnsafe<void>()
      // The first writer takes its transaction id, writes, and waits before committing.
      const first = bg.runtime.runFork(
        SqlClient.SqlClient.use((sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              const created = yield* createIn(account)
              yield* Deferred.succeed(started, created.id)
              yield* Deferred.await(gate)
              return created.id
            }),
          ),
        ),
      )
      const firstId = await bg.runtime.runPromise(Deferred.await(started))
      const second = await bg.runtime.runPromise(createIn(others[0]!))
      const third = await bg.runtime.runPromise(createIn(others[1]!))
      // Committed, but after a transaction still running: not final yet, so not handed over.
      expect(await drainHistory(events)).toEqual([])
      await bg.runtime.runPromise(Deferred.succeed(gate, undefined))
      await bg.runtime.runPromise(Fiber.join(first))
      const expected = [
        ...(await historyOf(firstId)),
        ...(await historyOf(second.id)),
        ...(await historyOf(third.id)),
      ]
      const relayed = await relayUntil(events, expected)
      expect(relayed).toEqual(expected)
      // The change feed's order, (xid, seq): the first writer's event first though it committed last.
      const feed = await bg.query<{ seq: string }>(
        `select seq::text as seq from transaction_events where transaction_id = any($1)
          order by transaction_events.xid, transaction_events.seq`,
        [firstId, second.id, third.id],
      )
      expect(feed.map((event) => PgOutbox.historyEventId(event.seq))).toEqual(relayed)
      expect(await drainHistory(events)).toEqual([])
      for (const id of relayed) expect(await jobsHolding(events, id)).toHaveLength(1)
      await events.close()
    },
  )

  it.skipIf(skipped)(
    "never hands a history event over twice when several relays run at once",
    async () => {
      const events = bg.queues.queue(Queues.events)
      const account = await bg.openAccount("Shared relay")
      await drainHistory(events)
      const relayed: Array<string> = []
      const written: Array<string> = []
      for (let round = 0; round < 10; round++) {
        const made = await bg.runtime.runPromise(
          Effect.all([createIn(account), createIn(account), createIn(account)], {
            concurrency: 3,
          }),
        )
        for (const t of made) written.push(...(await historyOf(t.id)))
        const passes = await Promise.all(
          [1, 2, 3].map(() =>
            bg.runtime.runPromise(
              relayHistoryBatch(events, { ...defaultSettings, relayBatch: 50 }),
            ),
          ),
        )
        for (const pass of passes) relayed.push(...pass.events.map((event) => event.id))
      }
      relayed.push(
        ...(await relayUntil(
          events,
          written.filter((id) => !relayed.includes(id)),
        )),
      )
      expect(new Set(relayed).size).toBe(relayed.length)
      expect([...relayed].sort()).toEqual([...written].sort())
      await events.close()
    },
  )

  it.skipIf(skipped)(
    "hands a history event over again when the queue lost its job, and not once it was dispatched",
    async () => {
      const events = bg.queues.queue(Queues.events)
      const account = await bg.openAccount("Lost history job")
      await drainHistory(events)
      const lost = await bg.runtime.runPromise(createIn(account))
      const [lostId] = await historyOf(lost.id)
      expect(await relayUntil(events, [lostId!])).toEqual([lostId])
      // The queue loses its data before any worker ran the job.
      await inspect(events).obliterate({ force: true })
      const settings = { ...defaultSettings, relayStaleMs: 200 }
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await bg.runtime.runPromise(relayStaleHistory(events, settings))).toContain(lostId)
      expect(await jobHolding(events, lostId!)).toBeDefined()
      // Once its dispatch finished, nothing is left to hand over again.
      await bg.runtime.runPromise(PgOutbox.markDispatched(lostId!))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await bg.runtime.runPromise(relayStaleHistory(events, settings))).not.toContain(lostId)
      await events.close()
    },
  )

  it.skipIf(skipped)(
    "keeps a dispatch that finished while its relay was still committing from being handed over again",
    async () => {
      const events = bg.queues.queue(Queues.events)
      const account = await bg.openAccount("Fast dispatch")
      await drainHistory(events)
      const made = await bg.runtime.runPromise(createIn(account))
      const [id] = await historyOf(made.id)
      // Final once no transaction that began before it is still running.
      await eventually(async () => {
        const [row] = await bg.query<{ final: boolean }>(
          `select xid < pg_snapshot_xmin(pg_current_snapshot()) as final
             from transaction_events where seq = $1`,
          PgOutbox.historySeqOf(id!),
        )
        return row!.final ? true : undefined
      })
      const recorded = Deferred.makeUnsafe<void>()
      const gate = Deferred.makeUnsafe<void>()
      // A relay that noted the event and enqueued it, and has not committed yet.
      const relay = bg.runtime.runFork(
        SqlClient.SqlClient.use((sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              const batch = yield* PgOutbox.claimHistory(10)
              yield* PgOutbox.recordRelayed(batch)
              yield* PgOutbox.advanceHistory(batch)
              yield* Deferred.succeed(recorded, undefined)
              yield* Deferred.await(gate)
              return batch.map((event) => event.id)
            }),
          ),
        ),
      )
      await bg.runtime.runPromise(Deferred.await(recorded))
      // Its job ran at once and finished; marking it waits for the relay's commit.
      const marked = bg.runtime.runFork(PgOutbox.markDispatched(id!))
      await new Promise((resolve) => setTimeout(resolve, 200))
      await bg.runtime.runPromise(Deferred.succeed(gate, undefined))
      expect(await bg.runtime.runPromise(Fiber.join(relay))).toContain(id)
      await bg.runtime.runPromise(Fiber.join(marked))
      const left = await bg.query<{ seq: string }>("select seq::text as seq from relayed_events")
      expect(left.map((event) => PgOutbox.historyEventId(event.seq))).not.toContain(id)
      await events.close()
    },
  )

  it.skipIf(skipped)(
    "hands an event over on its own when idle, with no notification from the writer",
    async () => {
      await bg.startWorkers({ relayPollMs: 300 })
      // Past the relay's first passes at start: idle from now on.
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const account = await bg.openAccount("Idle")
      const credit = await bg.runtime.runPromise(
        Transactions.use((t) => t.create(bg.userId, bg.transaction(account))),
      )
      const [event] = await bg.query<{ seq: string }>(
        "select seq::text as seq from transaction_events where transaction_id = $1",
        credit.id,
      )
      const events = bg.queues.queue(Queues.events)
      const job = await eventually(async () =>
        jobHolding(events, PgOutbox.historyEventId(event!.seq)),
      )
      await finishedJob(events, job.id!)
      const [notified] = await bg.query<{ id: string }>(
        "select id from outbox where data -> 'account' ->> 'id' = $1",
        account.id,
      )
      await eventually(
        async () => ((await row(notified!.id)).dispatchedAt !== null ? true : undefined),
        { what: "the account event to be dispatched" },
      )
      await bg.stopWorkers()
      await events.close()
    },
  )
})
