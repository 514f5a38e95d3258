import { testRedisUrl } from "@txn/testing"
import type { Queue } from "bullmq"
import type { Redacted } from "effect"
import type { JobQueue } from "../src/index.ts"

export interface Backend {
  readonly name: string
  readonly redisUrl: Redacted.Redacted<string> | undefined
  /** Why the suite is skipped on this machine, if it is. */
  readonly skipped: string | undefined
}

const redisUrl = testRedisUrl()
if (redisUrl === undefined) {
  console.warn("REDIS_URL is not set: the Redis backend suites are skipped; PostgreSQL ones run.")
}

/** PostgreSQL always; Redis only when the run has one, and the suite name says so when not. */
export const backends: ReadonlyArray<Backend> = [
  { name: "BullMQ on PostgreSQL", redisUrl: undefined, skipped: undefined },
  {
    name:
      redisUrl === undefined
        ? "BullMQ on Redis (skipped: REDIS_URL is not set)"
        : "BullMQ on Redis",
    redisUrl,
    skipped: redisUrl === undefined ? "REDIS_URL is not set" : undefined,
  },
]

/** Both backends hand out BullMQ Queue instances; tests read more of them than the port exposes. */
export const inspect = (queue: JobQueue) => queue as unknown as Queue
