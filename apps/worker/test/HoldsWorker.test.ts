import { randomBytes } from "node:crypto"
import { setTimeout as sleep } from "node:timers/promises"
import {
  type Account,
  Accounts,
  CreateTransaction,
  HoldScheduler,
  type TransactionId,
  Transactions,
} from "@txn/domain"
import { type Log, makeAppLayer, makeLog } from "@txn/platform"
import {
  BullHoldScheduler,
  expireHoldJobId,
  JobNames,
  type JobQueue,
  makeQueueBackend,
  type QueueBackend,
  Queues,
} from "@txn/queue"
import { eventually, finishedJob, inspect, queueBackends, uniquePrefix } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startHoldsWorker } from "../src/HoldsWorker.ts"
import {
  createAccount,
  createAccountWith,
  createPrivateDatabase,
  insertTransaction,
  LogCapture,
  secondsFromNow,
} from "./fixtures.ts"

const backends = queueBackends()

/** The worker's own runtime, as main.ts builds it: use cases over PostgreSQL, holds on `queue`. */
const makeRuntime = (
  databaseUrl: Redacted.Redacted<string>,
  queue: JobQueue<"holds">,
  log: Log,
  options: BullHoldScheduler.BullHoldSchedulerOptions = {},
) =>
  ManagedRuntime.make(
    makeAppLayer({
      databaseUrl,
      databasePoolMax: 5,
      holdScheduler: BullHoldScheduler.layer(queue, options),
      log,
    }),
  )

const hold = (account: Account, expiresAt: string) =>
  Schema.decodeUnknownSync(CreateTransaction)({
    accountId: account.id,
    direction: "debit",
    amount: 4_200,
    currency: account.currency,
    status: "pending",
    description: "Hotel deposit",
    expiresAt,
  })

describe.each(backends)("the holds worker with $name", ({ redisUrl, skipped }) => {
  let database: Awaited<ReturnType<typeof createPrivateDatabase>>
  let logs: LogCapture
  let queues: QueueBackend
  let producer: JobQueue<"holds">
  let runtime: ReturnType<typeof makeRuntime>
  let account: Account
  let overdueBeforeStart: TransactionId
  let worker: Awaited<ReturnType<typeof startHoldsWorker>>
  const prefix = uniquePrefix("worker")

  beforeAll(async () => {
    if (skipped) return
    database = await createPrivateDatabase("worker")
    logs = new LogCapture()
    const log = makeLog({ name: "worker", level: "info", destination: logs })
    queues = makeQueueBackend({ redisUrl, databaseUrl: database.url, prefix })
    producer = queues.queue(Queues.holds)
    runtime = makeRuntime(database.url, producer, log)
    account = await runtime.runPromise(createAccount)
    // Overdue before the worker exists and never given a job: only the start-up sweep can void it.
    overdueBeforeStart = (
      await runtime.runPromise(insertTransaction(account, { expiresAt: secondsFromNow(-60) }))
    ).id
    worker = await startHoldsWorker({
      queues,
      runtime,
      log,
      concurrency: 4,
      // Long enough that no sweep runs during a test after the first one, which runs at start:
      // a hold voided later was voided by its own job, or by a sweep the test asked for.
      sweepEveryMs: 3_600_000,
    })
  })

  afterAll(async () => {
    if (skipped) return
    await worker.close()
    await inspect(producer).obliterate({ force: true })
    await producer.close()
    await queues.close()
    await runtime.dispose()
    await database.drop()
  })

  const get = (id: TransactionId) =>
    runtime.runPromise(Transactions.use((transactions) => transactions.get(account.userId, { id })))

  const getJob = (jobId: string) => inspect(producer).getJob(jobId)

  const finished = (jobId: string, timeoutMs?: number) => finishedJob(producer, jobId, timeoutMs)

  const loggedFailure = (jobId: string) =>
    eventually(
      async () => logs.lines.find((line) => line.msg === "job failed" && line.jobId === jobId),
      {
        what: `a "job failed" log line for ${jobId}`,
      },
    )

  it.skipIf(skipped)(
    "voids a pending hold through its own delayed job once expiresAt passes, bumping the version",
    async () => {
      const expiresAt = secondsFromNow(1.5)
      const created = await runtime.runPromise(
        Transactions.use((transactions) =>
          transactions.create(account.userId, hold(account, expiresAt)),
        ),
      )
      expect(created).toMatchObject({ status: "pending", version: 1, expiresAt })

      const { job, state } = await finished(expireHoldJobId(created.id))
      expect(state).toBe("completed")
      expect(job.returnvalue).toEqual({ transactionId: created.id, outcome: "voided" })

      const voided = await get(created.id)
      expect(voided).toEqual({
        ...created,
        status: "voided",
        version: 2,
        updatedAt: expect.any(String),
      })
      // Voided at or after its expiry, never before.
      expect(Date.parse(voided.updatedAt)).toBeGreaterThanOrEqual(Date.parse(expiresAt))
    },
  )

  it.skipIf(skipped)(
    "releases what an expired hold held on the account's available balance when it voids it",
    async () => {
      // An account of its own that may not go negative, funded, so only this hold moves it.
      const funded = await runtime.runPromise(createAccountWith({ allowNegative: false }))
      const balance = () =>
        runtime.runPromise(
          Accounts.use((accounts) => accounts.balance(funded.userId, { id: funded.id })),
        )
      await runtime.runPromise(
        Transactions.use((transactions) =>
          transactions.create(funded.userId, {
            accountId: funded.id,
            direction: "credit",
            amount: 10_000,
            currency: funded.currency,
          }),
        ),
      )
      const created = await runtime.runPromise(
        Transactions.use((transactions) =>
          transactions.create(funded.userId, hold(funded, secondsFromNow(1.5))),
        ),
      )
      expect(await balance()).toEqual({
        accountId: funded.id,
        currency: funded.currency,
        posted: 10_000,
        pending: 5_800,
        available: 5_800,
        asOf: null,
      })

      const { job, state } = await finished(expireHoldJobId(created.id))
      expect(state).toBe("completed")
      expect(job.returnvalue).toEqual({ transactionId: created.id, outcome: "voided" })

      const voided = await runtime.runPromise(
        Transactions.use((transactions) => transactions.get(funded.userId, { id: created.id })),
      )
      expect(voided).toMatchObject({ status: "voided", version: 2 })
      expect(await balance()).toEqual({
        accountId: funded.id,
        currency: funded.currency,
        posted: 10_000,
        pending: 10_000,
        available: 10_000,
        asOf: null,
      })
    },
  )

  it.skipIf(skipped)(
    "voids, in the sweep it runs at start, a hold that was overdue before it started and never had a job",
    async () => {
      const voided = await eventually(
        async () => {
          const transaction = await get(overdueBeforeStart)
          return transaction.status === "voided" ? transaction : undefined
        },
        { what: "the overdue hold to be voided by the start-up sweep" },
      )
      expect(voided.version).toBe(2)
      expect(await getJob(expireHoldJobId(overdueBeforeStart))).toBeUndefined()
      expect(await inspect(producer).getJobScheduler(JobNames.expireDueHolds)).toMatchObject({
        name: JobNames.expireDueHolds,
        every: 3_600_000,
      })
    },
  )

  it.skipIf(skipped)(
    "voids in the sweep a hold whose enqueue failed, which the use case still created; leaves posted and not-yet-due ones alone",
    async () => {
      // The worker's own queue, through connections of its own that are closed before use.
      const broken = makeQueueBackend({ redisUrl, databaseUrl: database.url, prefix })
      const closedQueue = broken.queue(Queues.holds)
      await closedQueue.getJobCounts("waiting")
      await closedQueue.close()
      await broken.close()
      const brokenRuntime = makeRuntime(
        database.url,
        closedQueue,
        makeLog({ name: "worker", level: "info", destination: logs }),
        { timeoutMs: 500 },
      )
      try {
        const expiresAt = secondsFromNow(1)
        const orphan = await brokenRuntime.runPromise(
          Transactions.use((transactions) =>
            transactions.create(account.userId, hold(account, expiresAt)),
          ),
        )
        expect(orphan.status).toBe("pending")
        expect(
          logs.lines.some(
            (line) =>
              line.level === "warn" &&
              String(line.msg).includes("Could not enqueue hold expiry") &&
              String(line.msg).includes(orphan.id),
          ),
        ).toBe(true)
        expect(await getJob(expireHoldJobId(orphan.id))).toBeUndefined()

        const posted = await runtime.runPromise(
          Transactions.use((transactions) =>
            transactions.create(account.userId, {
              accountId: account.id,
              direction: "credit",
              amount: 100,
              currency: account.currency,
            }),
          ),
        )
        expect(await getJob(expireHoldJobId(posted.id))).toBeUndefined()
        const notYetDue = await runtime.runPromise(
          insertTransaction(account, { expiresAt: secondsFromNow(3_600) }),
        )

        await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 50)
        const sweepId = `sweep-${randomBytes(4).toString("hex")}`
        await producer.add(JobNames.expireDueHolds, {}, { jobId: sweepId })
        const { job, state } = await finished(sweepId)

        expect(state).toBe("completed")
        expect(job.returnvalue.voided).toBeGreaterThanOrEqual(1)
        expect(await get(orphan.id)).toMatchObject({ status: "voided", version: 2 })
        expect(await get(posted.id)).toEqual(posted)
        expect(await get(notYetDue.id)).toEqual(notYetDue)
      } finally {
        await brokenRuntime.dispose()
      }
    },
  )

  it.skipIf(skipped)(
    "leaves a hold that was posted before its expiry alone when its job fires",
    async () => {
      const created = await runtime.runPromise(
        Transactions.use((transactions) =>
          transactions.create(account.userId, hold(account, secondsFromNow(1.5))),
        ),
      )
      // No use case posts a hold yet; settle it the way a settlement would, in the table.
      await runtime.runPromise(
        SqlClient.SqlClient.use(
          (sql) => sql`update transactions
            set status = 'posted', expires_at = null, version = version + 1
            where id = ${created.id}`,
        ),
      )
      const settled = await get(created.id)
      expect(settled).toMatchObject({ status: "posted", version: 2, expiresAt: null })

      const { job, state } = await finished(expireHoldJobId(created.id))
      expect(state).toBe("completed")
      expect(job.returnvalue).toEqual({ transactionId: created.id, outcome: "notPending" })
      expect(await get(created.id)).toEqual(settled)
    },
  )

  it.skipIf(skipped)(
    "leaves a hold that is already voided at its version when another expire job runs",
    async () => {
      const voided = await runtime.runPromise(
        insertTransaction(account, {
          status: "voided",
          expiresAt: secondsFromNow(-60),
          version: 2,
        }),
      )
      const jobId = `again-${randomBytes(4).toString("hex")}`
      await producer.add(JobNames.expireHold, { transactionId: voided.id }, { jobId })

      const { job, state } = await finished(jobId)
      expect(state).toBe("completed")
      expect(job.returnvalue).toEqual({ transactionId: voided.id, outcome: "notPending" })
      expect(await get(voided.id)).toEqual(voided)
    },
  )

  it.skipIf(skipped)(
    "fails a malformed expire-hold job once without retrying it, and keeps working",
    async () => {
      const jobId = `malformed-${randomBytes(4).toString("hex")}`
      await producer.add(
        JobNames.expireHold,
        { transactionId: "not-a-transaction-id" },
        // Retries are allowed, so a single attempt shows the failure was treated as permanent.
        { jobId, attempts: 5, backoff: { type: "fixed", delay: 100 } },
      )

      const { job, state } = await finished(jobId)
      expect(state).toBe("failed")
      expect(job.attemptsMade).toBe(1)
      expect(job.failedReason).toContain("Malformed expire-hold payload")
      expect(await loggedFailure(jobId)).toMatchObject({ level: "warn", attempts: 1 })

      const overdue = await runtime.runPromise(
        insertTransaction(account, { expiresAt: secondsFromNow(-1) }),
      )
      await producer.add(
        JobNames.expireHold,
        { transactionId: overdue.id },
        { jobId: expireHoldJobId(overdue.id) },
      )
      const next = await finished(expireHoldJobId(overdue.id))
      expect(next.state).toBe("completed")
      expect(await get(overdue.id)).toMatchObject({ status: "voided", version: 2 })
    },
  )

  it.skipIf(skipped)("fails a job of an unknown name once without retrying it", async () => {
    const jobId = `unknown-${randomBytes(4).toString("hex")}`
    // A producer outside the contract: its types would not let it add this.
    await inspect(producer).add("expire-everything", {}, { jobId, attempts: 5 })

    const { job, state } = await finished(jobId)
    expect(state).toBe("failed")
    expect(job.attemptsMade).toBe(1)
    expect(job.failedReason).toBe("Unknown job expire-everything")
  })

  it.skipIf(skipped)(
    "retries a job that runs before its hold is due, and voids the hold once it is",
    async () => {
      const expiresAt = secondsFromNow(2.5)
      const early = await runtime.runPromise(insertTransaction(account, { expiresAt }))
      // A producer whose clock runs ahead believes the hold is due now, so its job runs at once.
      await runtime.runPromise(HoldScheduler.use((holds) => holds.schedule(early.id, new Date())))

      expect(await loggedFailure(expireHoldJobId(early.id))).toMatchObject({
        error: `Transaction ${early.id} is not due to expire yet`,
      })
      const { job, state } = await finished(expireHoldJobId(early.id), 25_000)
      expect(state).toBe("completed")
      expect(job.returnvalue).toEqual({ transactionId: early.id, outcome: "voided" })
      expect(job.attemptsMade).toBeGreaterThanOrEqual(2)

      const voided = await get(early.id)
      expect(voided).toMatchObject({ status: "voided", version: 2 })
      expect(Date.parse(voided.updatedAt)).toBeGreaterThanOrEqual(Date.parse(expiresAt))
    },
  )

  // Last: it closes the worker.
  it.skipIf(skipped)("lets a job in flight finish before close resolves", async () => {
    const overdue = await runtime.runPromise(
      insertTransaction(account, { expiresAt: secondsFromNow(-1) }),
    )
    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let locked!: (pid: number) => void
    const lockHolder = new Promise<number>((resolve) => {
      locked = resolve
    })
    // Holds the row lock, so the job's expire waits inside the worker until released.
    const holding = runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`select id from transactions where id = ${overdue.id} for update`
            const [row] = yield* sql<{ readonly pid: number }>`select pg_backend_pid() as pid`
            locked(row!.pid)
            yield* Effect.promise(() => released)
          }),
        ),
      ),
    )
    const pid = await lockHolder
    const jobId = expireHoldJobId(overdue.id)
    await producer.add(JobNames.expireHold, { transactionId: overdue.id }, { jobId })
    await eventually(
      async () => {
        const [row] = await runtime.runPromise(
          SqlClient.SqlClient.use(
            (sql) => sql<{ readonly waiting: number }>`
              select count(*)::int as waiting from pg_stat_activity
               where ${pid}::int = any(pg_blocking_pids(pid))`,
          ),
        )
        return row!.waiting > 0 ? true : undefined
      },
      { what: "the job's expire to wait for the row lock" },
    )

    let closed = false
    const closing = worker.close().then(() => {
      closed = true
    })
    // The job cannot finish while the lock is held, so a close that did not wait would be done.
    await sleep(500)
    expect(closed).toBe(false)
    release()
    await holding
    await closing

    const job = await getJob(jobId)
    expect(await job?.getState()).toBe("completed")
    expect(job?.returnvalue).toEqual({ transactionId: overdue.id, outcome: "voided" })
    expect(await get(overdue.id)).toMatchObject({ status: "voided", version: 2 })
  })
})
