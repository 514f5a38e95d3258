import type { JobQueue } from "@txn/queue"
import { testRedisUrl } from "@txn/testing"
import type { Queue } from "bullmq"

/** PostgreSQL always; Redis only when the run has one, and the suite name says so when not. */
export const backends = (() => {
  const redisUrl = testRedisUrl()
  if (redisUrl === undefined) {
    console.warn("REDIS_URL is not set: the Redis backend suites are skipped; PostgreSQL ones run.")
  }
  return [
    { name: "BullMQ on PostgreSQL", redisUrl: undefined, skipped: false },
    {
      name:
        redisUrl === undefined
          ? "BullMQ on Redis (skipped: REDIS_URL is not set)"
          : "BullMQ on Redis",
      redisUrl,
      skipped: redisUrl === undefined,
    },
  ] as const
})()

/** Both backends hand out BullMQ Queue instances; tests read more of them than the port exposes. */
export const inspect = (queue: JobQueue) => queue as unknown as Queue
