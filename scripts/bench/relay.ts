/**
 * `npm run bench -- relay`: how fast the worker's relay hands transaction events to the events
 * queue, and how far behind it runs. On a fresh, migrated database of DATABASE_URL's server (or
 * the embedded PostgreSQL), with the queue on REDIS_URL's Redis (or, without one, BullMQ's
 * PostgreSQL backend on the same database). Writers insert transactions and their `created`
 * events in set-based statements, as `createMany` does, at a fixed offered rate; the relay runs
 * as the worker runs it (`runRelay`, default settings) in this process. Nothing consumes the
 * queue: this measures the relay alone.
 *
 * Prints, per offered rate: events relayed per second, and the relay's lag per event, from the
 * event's time (`transaction_events.at`, the create's clock) to the moment its job was added.
 * Then the rate at which it drains a backlog written while it was stopped.
 */
import { randomBytes } from "node:crypto"
import { PgDatabase, PgDeliveries, PgOutbox } from "@txn/db"
import { makeQueueBackend, Queues } from "@txn/queue"
import type { Queue } from "bullmq"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { type HistoryRelayed, runRelay } from "../../apps/worker/src/Relay.ts"
import { defaultSettings } from "../../apps/worker/src/settings.ts"
import { openBenchDatabase, percentile, sleep } from "./harness.ts"

const offeredRates = [1_000, 5_000, 20_000] as const
const writers = 4
const tickMs = 20
const backlog = 50_000

const writeStatement = `
  with t as (
    insert into transactions
      (id, user_id, account_id, direction, amount, currency, status, occurred_at, created_at, updated_at)
    select 'txn_' || left(md5(random()::text || i), 26), $1, $2, 'credit', 1, 'USD', 'posted',
           now(), now(), now()
      from generate_series(1, $3::int) i
    returning id, user_id, created_at
  )
  insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
  select id, user_id, 1, 'created', 'bench', '{}'::jsonb, created_at from t`

export const run = async (options: { readonly seconds: number }) => {
  const database = await openBenchDatabase()
  const pool = new pg.Pool({ connectionString: database.url, max: writers })
  const queues = makeQueueBackend({
    redisUrl: database.config.redisUrl,
    databaseUrl: Redacted.make(database.url),
    prefix: `bench-relay-${randomBytes(4).toString("hex")}`,
  })
  const events = queues.queue(Queues.events)
  const webhooks = queues.queue(Queues.webhooks)
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(PgOutbox.layer, PgDeliveries.layer).pipe(
      Layer.provide(PgDatabase.layer({ url: Redacted.make(database.url), maxConnections: 4 })),
    ),
  )
  try {
    const userId = `usr_${randomBytes(13).toString("hex")}`
    const accountId = `acc_${randomBytes(13).toString("hex")}`
    await pool.query("insert into users (id, name, created_at) values ($1, 'Bench', now())", [
      userId,
    ])
    await pool.query(
      `insert into accounts (id, user_id, name, currency, allow_negative, created_at, updated_at)
       values ($1, $2, 'Bench', 'USD', true, now(), now())`,
      [accountId, userId],
    )
    const write = (count: number) => pool.query(writeStatement, [userId, accountId, count])
    console.log(
      `queue on ${database.config.redisUrl === undefined ? "BullMQ's PostgreSQL backend" : "Redis"}; ` +
        `${writers} writers, ${options.seconds} s per offered rate; relay batch ${defaultSettings.relayBatch}, ` +
        `busy poll ${defaultSettings.relayBusyPollMs} ms, idle poll up to ${defaultSettings.relayPollMs} ms`,
    )

    let lags: Array<number> = []
    let relayed = 0
    const onRelayed = (batch: HistoryRelayed, enqueuedAt: Date) => {
      relayed += batch.count
      for (const event of batch.events) lags.push(enqueuedAt.getTime() - event.at.getTime())
    }
    const startRelay = () =>
      runtime.runFork(runRelay({ events, webhooks }, defaultSettings, onRelayed))

    let relay = startRelay()
    await sleep(500)
    for (const rate of offeredRates) {
      lags = []
      relayed = 0
      const perTick = rate / writers / (1000 / tickMs)
      const started = performance.now()
      let written = 0
      await Promise.all(
        Array.from({ length: writers }, async () => {
          let owed = 0
          for (let tick = 1; performance.now() - started < options.seconds * 1000; tick++) {
            owed += perTick
            const count = Math.floor(owed)
            if (count > 0) {
              owed -= count
              await write(count)
              written += count
            }
            const next = started + tick * tickMs - performance.now()
            if (next > 0) await sleep(next)
          }
        }),
      )
      const wroteFor = (performance.now() - started) / 1000
      // Let the relay catch up with the last writes before reading its figures.
      const deadline = Date.now() + 30_000
      while (relayed < written && Date.now() < deadline) await sleep(20)
      const elapsed = (performance.now() - started) / 1000
      lags.sort((a, b) => a - b)
      console.log(
        `  offered ${String(rate).padStart(6)}/s: written ${Math.round(written / wroteFor)}/s, ` +
          `relayed ${relayed} of ${written} (${Math.round(relayed / elapsed)}/s over ${elapsed.toFixed(1)} s)   ` +
          `lag p50 ${percentile(lags, 50)} ms   p99 ${percentile(lags, 99)} ms   max ${lags.at(-1) ?? 0} ms`,
      )
    }

    await runtime.runPromise(Fiber.interrupt(relay))
    for (let left = backlog; left > 0; left -= 5_000) await write(Math.min(5_000, left))
    relayed = 0
    lags = []
    const drainStarted = performance.now()
    relay = startRelay()
    const deadline = Date.now() + 120_000
    while (relayed < backlog && Date.now() < deadline) await sleep(10)
    const drained = (performance.now() - drainStarted) / 1000
    console.log(
      `  backlog of ${backlog} written while stopped: relayed ${relayed} in ${drained.toFixed(2)} s ` +
        `(${Math.round(relayed / drained)} events/s)`,
    )
    await runtime.runPromise(Fiber.interrupt(relay))
  } finally {
    await runtime.dispose()
    // Both backends hand out BullMQ queues: drop the jobs nothing consumed.
    await (events as unknown as Queue).obliterate({ force: true }).catch(() => undefined)
    await events.close()
    await webhooks.close()
    await queues.close()
    await pool.end()
    await database.close()
  }
}
