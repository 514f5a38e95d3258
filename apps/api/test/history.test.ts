import { eventually } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let keyId: string
beforeAll(async () => {
  api = await startTestApi()
  const keys = await api.as(api.adminToken).query("admin.apiKeys.list", { userId: api.userId })
  keyId = keys.body.result.data[0].id
})
afterAll(() => api.close())

const newTransaction = async () => {
  const account = ok(
    await api.mutate("accounts.create", { name: "History", currency: "EUR", allowNegative: true }),
  )
  return ok(
    await api.mutate("transactions.create", {
      accountId: account.id,
      direction: "credit",
      amount: 4_200,
      currency: "EUR",
      description: "Invoice 7",
    }),
  )
}

describe("transactions.history", () => {
  it("lists every change with the API key that made it, the new version and what changed", async () => {
    const created = await newTransaction()
    ok(
      await api.mutate("transactions.update", {
        id: created.id,
        expectedVersion: 1,
        description: "Invoice 7 (paid)",
        metadata: { order_id: "A-7" },
      }),
    )
    const events = ok(await api.query("transactions.history", { id: created.id }))
    expect(events.map((e: Json) => [e.version, e.kind, e.actor, e.transactionId])).toEqual([
      [1, "created", keyId, created.id],
      [2, "updated", keyId, created.id],
    ])
    expect(events[0]!.changes.amount).toEqual({ from: null, to: 4_200 })
    expect(events[1]!.changes).toEqual({
      description: { from: "Invoice 7", to: "Invoice 7 (paid)" },
      metadata: { from: {}, to: { order_id: "A-7" } },
    })
    expect(events[1]!.seq).toBeGreaterThan(events[0]!.seq)
  })

  it("answers an unknown transaction with 404", async () => {
    const response = await api.query("transactions.history", { id: `txn_${"0".repeat(26)}` })
    expect(response.status).toBe(404)
    expect(response.body.error.data.tag).toBe("NotFound")
  })
})

describe("transactions.changes", () => {
  it("feeds every change in order, page by page, and resumes from the last cursor", async () => {
    const first = await newTransaction()
    const second = await newTransaction()
    ok(await api.mutate("transactions.update", { id: first.id, expectedVersion: 1, category: "x" }))

    const read = async (cursor?: string) => {
      const events: Array<Json> = []
      let next = cursor
      for (;;) {
        const page = ok(
          await api.query("transactions.changes", {
            limit: 1,
            ...(next === undefined ? {} : { cursor: next }),
          }),
        )
        events.push(...page.items)
        next = page.nextCursor ?? undefined
        if (!page.hasMore) return { events, cursor: next }
      }
    }
    const all = await eventually(async () => {
      const result = await read()
      const ours = result.events.filter((e) => [first.id, second.id].includes(e.transactionId))
      return ours.length === 3 ? { ...result, ours } : undefined
    })
    expect(all.ours.map((e: Json) => [e.transactionId, e.kind])).toEqual([
      [first.id, "created"],
      [second.id, "created"],
      [first.id, "updated"],
    ])

    ok(
      await api.mutate("transactions.update", { id: second.id, expectedVersion: 1, category: "y" }),
    )
    const resumed = await eventually(async () => {
      const result = await read(all.cursor ?? undefined)
      return result.events.length > 0 ? result : undefined
    })
    expect(resumed.events.map((e: Json) => [e.transactionId, e.kind, e.version])).toEqual([
      [second.id, "updated", 2],
    ])
  })

  it("rejects a cursor it did not hand out, naming the field", async () => {
    const response = await api.query("transactions.changes", { cursor: "not-a-cursor" })
    expect(response.status).toBe(400)
    expect(response.body.error.data.issues.map((i: Json) => i.path)).toEqual([["cursor"]])
  })
})
