import { inspect, queueBackends, testDatabaseUrl, uniquePrefix } from "@txn/testing"
import { describe, expect, it } from "vitest"
import {
  JobNames,
  type JobQueue,
  makeQueueBackend,
  type QueueBackend,
  Queues,
} from "../src/index.ts"

const backends = queueBackends()

describe.each(backends)("makeQueueBackend with $name", ({ redisUrl, skipped }) => {
  const opened: Array<{ backend: QueueBackend; queue: JobQueue<"holds"> }> = []
  const open = (prefix: string) => {
    const backend = makeQueueBackend({ redisUrl, databaseUrl: testDatabaseUrl(), prefix })
    const queue = backend.queue(Queues.holds)
    opened.push({ backend, queue })
    return { backend, queue }
  }
  const closeAll = async () => {
    for (const { backend, queue } of opened.splice(0)) {
      await inspect(queue).obliterate({ force: true })
      await queue.close()
      await backend.close()
    }
  }

  it.skipIf(skipped !== undefined)("picks Redis only when a Redis URL is given", async () => {
    try {
      expect(open(uniquePrefix("kind")).backend.kind).toBe(
        redisUrl === undefined ? "postgres" : "redis",
      )
    } finally {
      await closeAll()
    }
  })

  it.skipIf(skipped !== undefined)(
    "keeps queues of different prefixes apart on one server, and shares those of one prefix",
    async () => {
      try {
        const prefix = uniquePrefix("mine")
        const mine = open(prefix)
        const same = open(prefix)
        const other = open(uniquePrefix("other"))

        await mine.queue.add(JobNames.expireDueHolds, {}, { jobId: "probe-1", delay: 60_000 })

        expect(await inspect(same.queue).getJob("probe-1")).toBeDefined()
        expect(await inspect(other.queue).getJob("probe-1")).toBeUndefined()
        expect(await other.queue.getJobCounts("waiting", "delayed")).toEqual({
          waiting: 0,
          delayed: 0,
        })
      } finally {
        await closeAll()
      }
    },
  )
})
