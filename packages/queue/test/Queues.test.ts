import { UnrecoverableError } from "bullmq"
import { describe, expect, it } from "vitest"
import { decodeJob, JobNames, type JobQueue, Jobs, Queues } from "../src/index.ts"

describe("the queue contract", () => {
  it("names a payload schema for every job of every queue, and every queue", () => {
    expect(Object.keys(Jobs).sort()).toEqual(Object.values(Queues).sort())
    const contracted = Object.values(Jobs).flatMap((jobs) => Object.keys(jobs))
    expect(contracted.sort()).toEqual(Object.values(JobNames).sort())
  })

  it("decodes a payload it knows, and fails one it does not for good (no retry)", () => {
    const transactionId = "txn_0123456789abcdefghijklmnop"
    expect(decodeJob(Queues.holds, JobNames.expireHold, { transactionId })).toEqual({
      transactionId,
    })
    expect(() =>
      decodeJob(Queues.holds, JobNames.expireHold, { transactionId: "not-an-id" }),
    ).toThrow(UnrecoverableError)
    expect(() =>
      decodeJob(Queues.holds, JobNames.expireHold, { transactionId: "not-an-id" }),
    ).toThrow("Malformed expire-hold payload")
    expect(() => decodeJob(Queues.webhooks, JobNames.deliverWebhooks, { deliveryIds: [] })).toThrow(
      UnrecoverableError,
    )
    // A name another queue's contract has is unknown on this one.
    expect(() =>
      decodeJob(Queues.holds, JobNames.buildExport as never, { exportId: "exp_x" }),
    ).toThrow("Unknown job build-export on holds")
  })

  it("lets a producer add only its queue's jobs, each with its payload (checked by tsc)", () => {
    const produce = async (holds: JobQueue<"holds">, exports: JobQueue<"exports">) => {
      await holds.add(JobNames.expireHold, { transactionId: "txn_0123456789abcdefghijklmnop" })
      await exports.add(JobNames.buildExport, { exportId: "exp_0123456789abcdefghijklmnop" })
      // @ts-expect-error a job of another queue
      await holds.add(JobNames.buildExport, { exportId: "exp_0123456789abcdefghijklmnop" })
      // @ts-expect-error the payload of another job
      await holds.add(JobNames.expireHold, { exportId: "exp_0123456789abcdefghijklmnop" })
      // @ts-expect-error a batch of deliveries needs at least one
      await ({} as JobQueue<"webhooks">).add(JobNames.deliverWebhooks, { deliveryIds: [] })
    }
    expect(produce).toBeTypeOf("function")
  })
})
