import { Exports, Transactions } from "@txn/domain"
import { type JobName, JobNames, type JobQueue, Queues } from "@txn/queue"
import { eventually, finishedJob, inspect, queueBackends } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { defaultSettings, retryDelayMs } from "../src/settings.ts"
import { type Background, startBackground } from "./background.ts"

const backends = queueBackends()

describe("webhook retries", () => {
  it("span about 34 hours by default: 15 s doubling over 14 attempts", () => {
    const delays = Array.from({ length: defaultSettings.webhookAttempts - 1 }, (_, i) =>
      retryDelayMs(defaultSettings, i + 1),
    )
    expect(delays.reduce((sum, delay) => sum + delay, 0)).toBe(122_865_000)
  })
})

describe.each(backends)("scheduled maintenance with $name", ({ redisUrl, skipped }) => {
  let bg: Background
  let maintenance: JobQueue<"maintenance">

  beforeAll(async () => {
    if (skipped) return
    bg = await startBackground({ redisUrl, label: "maintenance" })
    maintenance = bg.queues.queue(Queues.maintenance)
  })
  afterAll(async () => {
    if (skipped) return
    await maintenance.close()
    await bg.close()
  })

  /** Runs one maintenance job through the queue and the worker; its return value. */
  const runJob = async (name: JobName<"maintenance">) => {
    const added = await maintenance.add(name, {})
    const { job, state } = await finishedJob(maintenance, added.id!)
    if (state === "failed") throw new Error(`${name} failed: ${job.failedReason}`)
    return job.returnvalue
  }

  it.skipIf(skipped)("schedules reconciliation nightly (UTC) and purges hourly", async () => {
    const schedulers = await inspect(maintenance).getJobSchedulers()
    expect(schedulers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: JobNames.reconcileBalances,
          pattern: "0 3 * * *",
          tz: "UTC",
        }),
        expect.objectContaining({
          key: JobNames.purgeExpired,
          every: 3_600_000,
        }),
      ]),
    )
  })

  it.skipIf(skipped)(
    "reconciliation finds every stored balance equal to its postings, then records and alerts on one that is not",
    async () => {
      const account = await bg.openAccount("Reconciled")
      const other = await bg.openAccount("Untouched")
      for (const fields of [
        {},
        { direction: "debit", amount: 300 },
        { status: "pending", amount: 50 },
      ]) {
        await bg.runtime.runPromise(
          Transactions.use((t) => t.create(bg.userId, bg.transaction(account, fields))),
        )
      }
      const clean = await runJob(JobNames.reconcileBalances)
      expect(clean).toMatchObject({ mismatches: 0 })
      expect(clean.accountsChecked).toBeGreaterThanOrEqual(2)

      // A balance changed behind the ledger's back.
      await bg.query(
        "update accounts set posted_balance = posted_balance + 7 where id = $1",
        account.id,
      )
      const found = await runJob(JobNames.reconcileBalances)
      expect(found).toMatchObject({ mismatches: 1 })
      const recorded = await bg.query<Record<string, unknown>>(
        `select account_id, field, stored::int, from_transactions::int, from_ledger::int
           from reconciliation_mismatches where run_id = $1`,
        found.runId,
      )
      expect(recorded).toEqual([
        {
          accountId: account.id,
          field: "posted",
          stored: 707,
          fromTransactions: 700,
          fromLedger: 700,
        },
      ])
      const alert = bg.logs.lines.find((line) => line.alert === "balance_mismatch")
      expect(alert).toMatchObject({
        level: "error",
        accountId: account.id,
        field: "posted",
        stored: "707",
      })
      expect(recorded.some((row) => row.accountId === other.id)).toBe(false)
      await bg.query(
        "update accounts set posted_balance = posted_balance - 7 where id = $1",
        account.id,
      )
    },
  )

  it.skipIf(skipped)(
    "purging removes expired idempotency keys, expired exports and old dispatched events, and keeps the rest",
    async () => {
      const [expired, kept] = await Promise.all(
        [1, 2].map(() => bg.runtime.runPromise(Exports.use((e) => e.create(bg.userId, {})))),
      )
      // Built first: a purge skips a row a build is updating at that moment (its next run takes
      // it), which would make this test depend on timing.
      await eventually(async () => {
        const rows = await bg.query<{ n: number }>(
          "select count(*)::int as n from exports where id in ($1, $2) and status = 'completed'",
          expired!.id,
          kept!.id,
        )
        return rows[0]!.n === 2 ? true : undefined
      })
      await bg.query(
        "update exports set expires_at = now() - interval '1 second' where id = $1",
        expired!.id,
      )
      await bg.query(
        `insert into idempotency_keys (user_id, key, operation, request_hash, created_at, expires_at)
         values ($1, 'expired', 'x', repeat('a', 64), now() - interval '8 days', now() - interval '1 day'),
                ($1, 'current', 'x', repeat('a', 64), now(), now() + interval '7 days')`,
        bg.userId,
      )
      await bg.openAccount("Old event")
      await bg.openAccount("Recent event")
      const [old, recent] = await bg.query<{ id: string }>(
        `select id from outbox where data -> 'account' ->> 'name' in ('Old event', 'Recent event')
          order by seq`,
      )
      await eventually(async () => {
        const rows = await bg.query<{ n: number }>(
          "select count(*)::int as n from outbox where id in ($1, $2) and dispatched_at is not null",
          old!.id,
          recent!.id,
        )
        return rows[0]!.n === 2 ? true : undefined
      })
      await bg.query(
        "update outbox set created_at = now() - interval '31 days' where id = $1",
        old!.id,
      )
      const purged = await runJob(JobNames.purgeExpired)
      expect(purged.idempotencyKeys).toBeGreaterThanOrEqual(1)
      expect(purged.events).toBeGreaterThanOrEqual(1)
      const keys = await bg.query<{ key: string }>(
        "select key from idempotency_keys where user_id = $1 order by key",
        bg.userId,
      )
      expect(keys.map((row) => row.key)).toEqual(["current"])
      expect(purged.exports).toBeGreaterThanOrEqual(1)
      const exportsLeft = await bg.query<{ id: string }>(
        "select id from exports where id in ($1, $2)",
        expired!.id,
        kept!.id,
      )
      expect(exportsLeft.map((row) => row.id)).toEqual([kept!.id])
      const left = await bg.query<{ id: string }>(
        "select id from outbox where id in ($1, $2)",
        old!.id,
        recent!.id,
      )
      expect(left.map((row) => row.id)).toEqual([recent!.id])
    },
  )

  it.skipIf(skipped)(
    "purging removes settled deliveries of transaction events past retention and keeps the history and what is pending",
    async () => {
      const webhook = await bg.createWebhook({
        url: "http://127.0.0.1:9/purge",
        // Subscribed to nothing this test makes: only the deliveries it writes exist.
        eventTypes: ["transaction.voided"],
      })
      const account = await bg.openAccount("Purged deliveries")
      const made = await Promise.all(
        [1, 2, 3].map(() =>
          bg.runtime.runPromise(
            Transactions.use((t) => t.create(bg.userId, bg.transaction(account))),
          ),
        ),
      )
      const events = await bg.query<{ seq: string }>(
        `select seq::text as seq from transaction_events where transaction_id = any($1)
          order by transaction_events.seq`,
        made.map((t) => t.id),
      )
      // Old and settled, old and still pending, recent and settled.
      const deliveries = await bg.query<{ id: string }>(
        `insert into webhook_deliveries
           (id, webhook_id, event_id, status, next_attempt_at, created_at, updated_at)
         select txn_random_id('dlv'), $1, txn_event_id(d.seq), d.status,
                case when d.status = 'pending' then now() + interval '1 day' end,
                now() - d.age, now() - d.age
           from unnest($2::bigint[], $3::text[], $4::interval[]) as d(seq, status, age)
         on conflict (event_id, webhook_id) do update
           set status = excluded.status, next_attempt_at = excluded.next_attempt_at,
               created_at = excluded.created_at, updated_at = excluded.updated_at
         returning id`,
        webhook.id,
        events.map((event) => event.seq),
        ["delivered", "pending", "failed"],
        ["31 days", "31 days", "1 day"],
      )
      const purged = await runJob(JobNames.purgeExpired)
      expect(purged.deliveries).toBeGreaterThanOrEqual(1)
      const left = await bg.query<{ id: string }>(
        "select id from webhook_deliveries where id = any($1) order by created_at, id",
        deliveries.map((delivery) => delivery.id),
      )
      expect(left.map((row) => row.id).sort()).toEqual(
        [deliveries[1]!.id, deliveries[2]!.id].sort(),
      )
      const history = await bg.query<{ n: number }>(
        "select count(*)::int as n from transaction_events where transaction_id = any($1)",
        made.map((t) => t.id),
      )
      expect(history[0]!.n).toBe(3)
    },
  )
})
