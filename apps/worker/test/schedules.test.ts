import { JobNames, makeQueueBackend, type QueueBackend, Queues } from "@txn/queue"
import { inspect, queueBackends } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startWorkers } from "../src/startWorkers.ts"
import { type Background, fastSettings, startBackground } from "./background.ts"

const backends = queueBackends()

const purgeEveryMs = 500

describe.each(backends)("job schedules shared by two workers on $name", ({ redisUrl, skipped }) => {
  let bg: Background
  let secondQueues: QueueBackend
  let second: Awaited<ReturnType<typeof startWorkers>>

  beforeAll(async () => {
    if (skipped) return
    const settings = { ...fastSettings, purgeEveryMs }
    bg = await startBackground({ redisUrl, label: "schedules", settings })
    // A second worker on the same queues with connections of its own, as a second replica's.
    secondQueues = makeQueueBackend({ redisUrl, databaseUrl: bg.database.url, prefix: bg.prefix })
    second = await startWorkers({
      queues: secondQueues,
      runtime: bg.runtime,
      log: bg.log,
      settings,
      webhookNetwork: { allowPrivate: true },
    })
  })
  afterAll(async () => {
    if (skipped) return
    await second.close()
    await secondQueues.close()
    await bg.close()
  })

  it.skipIf(skipped)(
    "keeps one scheduler of each job however many workers upsert it, and runs each period's job once",
    async () => {
      const maintenance = inspect(bg.queues.queue(Queues.maintenance))
      const holds = inspect(bg.queues.queue(Queues.holds))
      const names = (schedulers: ReadonlyArray<{ key?: string; name?: string }>) =>
        schedulers.map((scheduler) => scheduler.key ?? scheduler.name).sort()
      expect(names(await maintenance.getJobSchedulers())).toEqual(
        [JobNames.purgeExpired, JobNames.reconcileBalances].sort(),
      )
      expect(names(await holds.getJobSchedulers())).toEqual([JobNames.expireDueHolds])

      // Both workers take jobs from the queue: each period's purge runs once, not once per worker.
      const purges = () => bg.logs.lines.filter((line) => line.msg === "purged expired records")
      const started = Date.now()
      const before = purges().length
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      const ran = purges().length - before
      const periods = (Date.now() - started) / purgeEveryMs
      expect(ran).toBeGreaterThanOrEqual(2)
      expect(ran).toBeLessThanOrEqual(Math.ceil(periods) + 1)
      const ids = (await maintenance.getJobs(["completed"], 0, 1_000))
        .filter((job) => job.name === JobNames.purgeExpired)
        .map((job) => job.id)
      expect(new Set(ids).size).toBe(ids.length)
    },
  )
})
