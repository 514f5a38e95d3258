import { describe, expect, it } from "vitest"
import { type LiveEvent, LiveFetchQueue } from "../src/screens/liveFetchQueue.ts"

const change = (n: number): LiveEvent => ({
  transactionId: `txn_${n}` as LiveEvent["transactionId"],
  accountId: "acc_1" as LiveEvent["accountId"],
  version: 1,
  kind: "created",
  at: new Date(0).toISOString() as LiveEvent["at"],
})

/** A queue whose fetches wait until `settle` answers them, recording what it sends and shows. */
const harness = (concurrency: number, maxPending: number) => {
  const pending: Array<{ id: string; answer: (ok: boolean) => void }> = []
  const shown: Array<string> = []
  const bursts: Array<number> = []
  const queue = new LiveFetchQueue<string>({
    fetch: (event) =>
      new Promise((resolve, reject) => {
        pending.push({
          id: event.transactionId,
          answer: (ok) => (ok ? resolve(event.transactionId) : reject(new Error("gone"))),
        })
      }),
    onRow: (row) => shown.push(row),
    onBurst: (count) => bursts.push(count),
    concurrency,
    maxPending,
  })
  const settle = async (ok = true) => {
    pending.shift()?.answer(ok)
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
  return { queue, pending, shown, bursts, settle }
}

describe("LiveFetchQueue", () => {
  it("fetches at most `concurrency` at once and shows each in order of arrival", async () => {
    const { queue, pending, shown, settle } = harness(2, 10)
    for (const n of [1, 2, 3]) queue.push(change(n))
    expect(pending.map((p) => p.id)).toEqual(["txn_1", "txn_2"])
    await settle()
    expect(pending.map((p) => p.id)).toEqual(["txn_2", "txn_3"])
    await settle()
    await settle()
    expect(shown).toEqual(["txn_1", "txn_2", "txn_3"])
  })

  it("skips a transaction it cannot read and goes on", async () => {
    const { queue, shown, settle } = harness(1, 10)
    queue.push(change(1))
    queue.push(change(2))
    await settle(false)
    await settle()
    expect(shown).toEqual(["txn_2"])
  })

  it("turns a burst into one count instead of a request per change, until cleared", async () => {
    const { queue, pending, shown, bursts, settle } = harness(2, 5)
    for (let n = 1; n <= 1_000; n++) queue.push(change(n))
    // Five waited (two of them sent); the sixth made it a burst, and the rest counted.
    expect(pending).toHaveLength(2)
    expect(bursts.at(-1)).toBe(1_000)
    await settle()
    await settle()
    // What was in flight when the burst began is not shown: the list is read again for it.
    expect(shown).toEqual([])
    expect(pending).toHaveLength(0)
    queue.clearBurst()
    queue.push(change(1_001))
    await settle()
    expect(shown).toEqual(["txn_1001"])
  })

  it("does nothing more once stopped", async () => {
    const { queue, pending, shown, settle } = harness(1, 5)
    queue.push(change(1))
    queue.push(change(2))
    queue.stop()
    await settle()
    queue.push(change(3))
    expect(pending).toHaveLength(0)
    expect(shown).toEqual([])
  })
})
