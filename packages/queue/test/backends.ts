import { queueBackends } from "@txn/testing"
import type { Queue } from "bullmq"
import type { QueueHandle } from "../src/index.ts"

export const backends = queueBackends()

/** Both backends hand out BullMQ Queue instances; tests read more of them than the port exposes. */
export const inspect = (queue: QueueHandle) => queue as unknown as Queue
