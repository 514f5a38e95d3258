import { HoldScheduler, newTransactionId, type TransactionId } from "@txn/domain"
import { inspect, queueBackends, testDatabaseUrl, uniquePrefix } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Schema from "effect/Schema"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  BullHoldScheduler,
  ExpireHoldJob,
  expireHoldJobId,
  JobNames,
  type JobQueue,
  makeQueueBackend,
  type QueueBackend,
  Queues,
} from "../src/index.ts"

const backends = queueBackends()

interface LogEntry {
  readonly level: string
  readonly message: unknown
}

/** Runs `schedule` through the real layer, collecting what it logs. */
const schedule = async (
  queue: JobQueue<"holds">,
  id: TransactionId,
  expiresAt: Date,
  options: BullHoldScheduler.BullHoldSchedulerOptions = {},
) => {
  const logs: Array<LogEntry> = []
  const capture = Logger.layer([
    Logger.make(({ logLevel, message }) => {
      logs.push({ level: logLevel, message })
    }),
  ])
  const result = await Effect.runPromise(
    HoldScheduler.use((holds) => holds.schedule(id, expiresAt)).pipe(
      Effect.provide(Layer.merge(BullHoldScheduler.layer(queue, options), capture)),
    ),
  )
  return { result, logs }
}

describe.each(backends)("BullHoldScheduler with $name", ({ redisUrl, skipped }) => {
  const backendOf = (prefix: string) =>
    makeQueueBackend({ redisUrl, databaseUrl: testDatabaseUrl(), prefix })

  let backend: QueueBackend
  let queue: JobQueue<"holds">
  beforeAll(() => {
    if (skipped !== undefined) return
    backend = backendOf(uniquePrefix("scheduler"))
    queue = backend.queue(Queues.holds)
  })
  afterAll(async () => {
    if (skipped !== undefined) return
    await inspect(queue).obliterate({ force: true })
    await queue.close()
    await backend.close()
  })

  it.skipIf(skipped !== undefined)(
    "adds a delayed expire-hold job named after the transaction, carrying its id, due at expiresAt",
    async () => {
      const id = newTransactionId()
      const expiresAt = new Date(Date.now() + 60_000)
      const before = Date.now()
      const { result, logs } = await schedule(queue, id, expiresAt)
      const after = Date.now()

      expect(result).toBeUndefined()
      expect(logs).toEqual([])
      const job = await inspect(queue).getJob(expireHoldJobId(id))
      expect(job).toBeDefined()
      expect(job!.id).toBe(`expire-hold-${id}`)
      expect(job!.name).toBe(JobNames.expireHold)
      expect(job!.data).toEqual({ transactionId: id })
      expect(Schema.decodeUnknownSync(ExpireHoldJob)(job!.data)).toEqual({ transactionId: id })
      expect(await job!.getState()).toBe("delayed")
      // The delay is the time left when the job was added, so it lies between these two bounds.
      expect(job!.delay).toBeGreaterThanOrEqual(expiresAt.getTime() - after)
      expect(job!.delay).toBeLessThanOrEqual(expiresAt.getTime() - before)
      // A job that runs early fails with notDue; it must be retried, not dropped.
      expect(job!.opts.attempts).toBeGreaterThan(1)
    },
  )

  it.skipIf(skipped !== undefined)(
    "adds a delayed job for each of many holds in one call, each due at its own expiresAt",
    async () => {
      const holds = Array.from({ length: 50 }, (_, i) => ({
        id: newTransactionId(),
        expiresAt: new Date(Date.now() + 60_000 + i * 1_000),
      }))
      const before = Date.now()
      const result = await Effect.runPromise(
        HoldScheduler.use((scheduler) => scheduler.scheduleMany(holds)).pipe(
          Effect.provide(BullHoldScheduler.layer(queue)),
        ),
      )
      const after = Date.now()
      expect(result).toBeUndefined()
      for (const { id, expiresAt } of holds) {
        const job = await inspect(queue).getJob(expireHoldJobId(id))
        expect(job?.name).toBe(JobNames.expireHold)
        expect(job?.data).toEqual({ transactionId: id })
        expect(await job?.getState()).toBe("delayed")
        expect(job!.delay).toBeGreaterThanOrEqual(expiresAt.getTime() - after)
        expect(job!.delay).toBeLessThanOrEqual(expiresAt.getTime() - before)
      }
    },
  )

  it.skipIf(skipped !== undefined)(
    "adds a job that is due at once for a hold already past its expiry",
    async () => {
      const id = newTransactionId()
      await schedule(queue, id, new Date(Date.now() - 5_000))

      const job = await inspect(queue).getJob(expireHoldJobId(id))
      expect(job?.delay).toBe(0)
      expect(await job?.getState()).toBe("waiting")
    },
  )

  it.skipIf(skipped !== undefined)(
    "keeps one job, the first, when the same hold is scheduled twice",
    async () => {
      const own = backendOf(uniquePrefix("twice"))
      const ownQueue = own.queue(Queues.holds)
      try {
        const id = newTransactionId()
        const expiresAt = new Date(Date.now() + 60_000)
        await schedule(ownQueue, id, expiresAt)
        const first = await inspect(ownQueue).getJob(expireHoldJobId(id))
        const second = await schedule(ownQueue, id, new Date(Date.now() + 120_000))

        expect(second.logs).toEqual([])
        expect(await ownQueue.getJobCounts("waiting", "active", "delayed")).toEqual({
          waiting: 0,
          active: 0,
          delayed: 1,
        })
        const stored = await inspect(ownQueue).getJob(expireHoldJobId(id))
        expect(stored?.timestamp).toBe(first?.timestamp)
        expect(stored?.delay).toBe(first?.delay)
        expect(stored?.data).toEqual({ transactionId: id })
      } finally {
        await inspect(ownQueue).obliterate({ force: true })
        await ownQueue.close()
        await own.close()
      }
    },
  )

  it.skipIf(skipped !== undefined)(
    "logs a warning naming the transaction, and does not fail, when the queue is closed",
    async () => {
      const prefix = uniquePrefix("closed")
      const closed = backendOf(prefix)
      const closedQueue = closed.queue(Queues.holds)
      await closedQueue.getJobCounts("waiting")
      await closedQueue.close()
      await closed.close()

      const id = newTransactionId()
      // On PostgreSQL a closed queue never answers; the timeout turns that into a failure.
      const { result, logs } = await schedule(closedQueue, id, new Date(Date.now() + 60_000), {
        timeoutMs: 1_000,
      })

      expect(result).toBeUndefined()
      expect(logs).toEqual([
        {
          level: "Warn",
          message: [
            "Could not enqueue hold expiry; the sweep will void it",
            { transactionId: id, error: expect.any(String) },
          ],
        },
      ])
      const reopened = backendOf(prefix)
      const reopenedQueue = reopened.queue(Queues.holds)
      try {
        expect(await inspect(reopenedQueue).getJob(expireHoldJobId(id))).toBeUndefined()
      } finally {
        await inspect(reopenedQueue).obliterate({ force: true })
        await reopenedQueue.close()
        await reopened.close()
      }
    },
  )
})
