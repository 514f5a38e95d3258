import { PgOutbox } from "@txn/db"
import { Transactions } from "@txn/domain"
import { JobNames, type JobQueue, Queues } from "@txn/queue"
import { eventually, inspect, queueBackends } from "@txn/testing"
import type { Job } from "bullmq"
import * as Effect from "effect/Effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { dispatchEvents } from "../src/jobs/dispatchEvent.ts"
import { relayHistoryBatch } from "../src/Relay.ts"
import { defaultSettings } from "../src/settings.ts"
import { type Background, startBackground } from "./background.ts"
import { countedRuntime } from "./fixtures.ts"

const backends = queueBackends()

describe.each(backends)("dispatching a batch of events on $name", ({ redisUrl, skipped }) => {
  let bg: Background
  // The same database through a hop that counts statements.
  let counted: Awaited<ReturnType<typeof countedRuntime>>

  beforeAll(async () => {
    if (skipped) return
    bg = await startBackground({ redisUrl, workers: false, label: "dispatch" })
    counted = await countedRuntime(bg.database.url)
  })
  afterAll(async () => {
    if (skipped) return
    await counted.close()
    await bg.close()
  })

  /** `n` new transactions' created events, handed over by the relay; and the jobs it enqueued. */
  const relayed = async (events: JobQueue<"events">, n: number) => {
    const account = await bg.openAccount(`Batch of ${n}`)
    const made = await bg.runtime.runPromise(
      Effect.forEach(Array.from({ length: n }), () =>
        Transactions.use((t) => t.create(bg.userId, bg.transaction(account))),
      ),
    )
    const rows = await bg.query<{ seq: string }>(
      "select seq::text as seq from transaction_events where transaction_id = any($1) order by seq",
      made.map((t) => t.id),
    )
    const ids = rows.map((row) => PgOutbox.historyEventId(row.seq))
    const handed: Array<string> = []
    let batches = 0
    // A transaction running anywhere on the server holds the history back until it ends.
    await eventually(
      async () => {
        const batch = await bg.runtime.runPromise(
          relayHistoryBatch(events, { ...defaultSettings, relayBatch: 500 }),
        )
        if (batch.count > 0) batches += 1
        handed.push(...batch.events.map((event) => event.id))
        return ids.every((id) => handed.includes(id)) ? true : undefined
      },
      { what: "the history events to be handed over" },
    )
    const jobs = (await inspect(events).getJobs(["waiting", "delayed", "active"])).filter(
      (job) =>
        job.name === JobNames.dispatchEvents &&
        (job.data as { eventIds: ReadonlyArray<string> }).eventIds.some((id) => ids.includes(id)),
    )
    return { ids, jobs, batches }
  }

  /** The jobs of the webhooks queue that carry any of `deliveries`. */
  const deliveryJobsOf = async (
    webhooks: JobQueue<"webhooks">,
    deliveries: ReadonlyArray<{ readonly id: string }>,
  ) => {
    const ids = new Set(deliveries.map((delivery) => delivery.id))
    const jobs = await inspect(webhooks).getJobs(["waiting", "delayed", "active", "completed"])
    return jobs.filter((job) =>
      ((job.data as { deliveryIds?: ReadonlyArray<string> }).deliveryIds ?? []).some((id) =>
        ids.has(id),
      ),
    ) as Array<Job<{ deliveryIds: Array<string> }>>
  }

  const dispatch = async (
    queues: { webhooks: JobQueue<"webhooks">; exports: JobQueue<"exports"> },
    eventIds: ReadonlyArray<string>,
  ) => {
    const job = { id: "counted", name: JobNames.dispatchEvents, data: { eventIds } } as Job
    const before = counted.statements()
    const outcome = await dispatchEvents(counted.runtime, queues, defaultSettings)(job)
    return { outcome, statements: counted.statements() - before }
  }

  it.skipIf(skipped)(
    "enqueues one job per relayed batch and dispatches it in the same few statements for 2 events as for 40, each subscribed delivery created and enqueued once",
    async () => {
      const events = bg.queues.queue(Queues.events)
      const webhooks = bg.queues.queue(Queues.webhooks)
      const exports = bg.queues.queue(Queues.exports)
      await bg.createWebhook({
        url: "http://127.0.0.1:9/hooks",
        eventTypes: ["transaction.created"],
      })
      // Warms the pool up: its connections' first statements are not the dispatch's.
      const warm = await relayed(events, 1)
      await dispatch({ webhooks, exports }, warm.ids)

      const statements: Array<number> = []
      for (const n of [2, 40]) {
        const { ids, jobs, batches } = await relayed(events, n)
        // One job per batch the relay handed over, not one per event.
        expect(jobs).toHaveLength(batches)
        expect(jobs.flatMap((job) => job.data.eventIds).sort()).toEqual([...ids].sort())
        const first = await dispatch({ webhooks, exports }, ids)
        statements.push(first.statements)
        expect(first.outcome).toEqual({ events: n, deliveries: n })
        const deliveries = await bg.query<{ id: string; eventId: string }>(
          "select id, event_id from webhook_deliveries where event_id = any($1)",
          ids,
        )
        expect(deliveries.map((delivery) => delivery.eventId).sort()).toEqual([...ids].sort())
        // First attempts go webhookBatch deliveries to a job, each delivery in exactly one.
        const firstAttempts = await deliveryJobsOf(webhooks, deliveries)
        expect(firstAttempts.map((job) => job.name)).toEqual(
          firstAttempts.map(() => JobNames.deliverWebhooks),
        )
        expect(firstAttempts).toHaveLength(Math.ceil(n / defaultSettings.webhookBatch))
        expect(firstAttempts.flatMap((job) => job.data.deliveryIds).sort()).toEqual(
          deliveries.map((delivery) => delivery.id).sort(),
        )
        expect(
          await bg.query(
            "select seq from relayed_events where seq = any($1::bigint[])",
            ids.map((id) => PgOutbox.historySeqOf(id)),
          ),
        ).toEqual([])
        // Again, as a retried job would: nothing created or enqueued twice.
        const again = await dispatch({ webhooks, exports }, ids)
        expect(again.outcome).toEqual({ events: n, deliveries: n })
        expect(await deliveryJobsOf(webhooks, deliveries)).toHaveLength(firstAttempts.length)
        expect(
          await bg.query("select id from webhook_deliveries where event_id = any($1)", ids),
        ).toHaveLength(n)
      }
      // Created and read back in one statement, the relayed rows cleared in two.
      expect(statements[1]).toBe(statements[0])
      expect(statements[0]).toBeLessThanOrEqual(3)
      await Promise.all([events.close(), webhooks.close(), exports.close()])
    },
  )

  it.skipIf(skipped)(
    "costs events no webhook subscribes to no delivery and no more statements",
    async () => {
      const events = bg.queues.queue(Queues.events)
      const webhooks = bg.queues.queue(Queues.webhooks)
      const exports = bg.queues.queue(Queues.exports)
      await bg.query("update webhooks set status = 'disabled', disabled_reason = 'test'")
      const { ids } = await relayed(events, 40)
      const { outcome, statements } = await dispatch({ webhooks, exports }, ids)
      expect(outcome).toEqual({ events: 40, deliveries: 0 })
      expect(statements).toBeLessThanOrEqual(3)
      expect(
        await bg.query("select id from webhook_deliveries where event_id = any($1)", ids),
      ).toEqual([])
      await Promise.all([events.close(), webhooks.close(), exports.close()])
    },
  )
})
