import { randomUUID } from "node:crypto"
import { eventually } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let accountId: string
beforeAll(async () => {
  api = await startTestApi()
  const account = await api.rest("POST", "/v1/accounts", {
    body: { name: "REST transactions", currency: "EUR" },
  })
  accountId = account.body.id
  const funded = await record({ direction: "credit", amount: 100_000 })
  expect(funded.status).toBe(201)
})
afterAll(() => api.close())

const record = (fields: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api.rest("POST", "/v1/transactions", {
    body: { accountId, currency: "EUR", ...fields },
    headers,
  })

describe("transactions over REST", () => {
  it("records one: 201 with its Location; a retry with the key replays it; tRPC sees the same", async () => {
    const key = randomUUID()
    const first = await record(
      { direction: "debit", amount: 250, category: "food" },
      {
        "idempotency-key": key,
      },
    )
    expect(first.status).toBe(201)
    expect(first.headers.get("location")).toBe(`/v1/transactions/${first.body.id}`)
    expect(first.body).toMatchObject({ amount: 250, status: "posted", version: 1 })
    const again = await record(
      { direction: "debit", amount: 250, category: "food" },
      {
        "idempotency-key": key,
      },
    )
    expect(again.status).toBe(201)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.body).toEqual(first.body)
    const viaTrpc = await api.query("transactions.get", { id: first.body.id })
    expect(viaTrpc.body.result.data).toEqual(first.body)
  })

  it("gives reads their version as ETag, and takes it back as If-Match", async () => {
    const created = await record({ direction: "debit", amount: 100 })
    const read = await api.rest("GET", `/v1/transactions/${created.body.id}`)
    expect(read.headers.get("etag")).toBe('"1"')

    const updated = await api.rest("PATCH", `/v1/transactions/${created.body.id}`, {
      body: { category: "treats", description: null },
      headers: { "if-match": '"1"' },
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ category: "treats", description: null, version: 2 })
    expect(updated.headers.get("etag")).toBe('"2"')

    const stale = await api.rest("PATCH", `/v1/transactions/${created.body.id}`, {
      body: { category: "lost update" },
      headers: { "if-match": '"1"' },
    })
    expect(stale.status).toBe(409)
    expect(stale.body.error).toMatchObject({
      tag: "VersionConflict",
      details: { expectedVersion: 1, currentVersion: 2 },
    })

    const bare = await api.rest("PATCH", `/v1/transactions/${created.body.id}`, {
      body: { category: "bare" },
      headers: { "if-match": "2" },
    })
    expect(bare.status).toBe(200)
  })

  it("refuses a change without If-Match, or with one that is not a version, naming the header", async () => {
    const created = await record({ direction: "debit", amount: 100 })
    const attempts: Array<Record<string, string>> = [
      {},
      { "if-match": "*" },
      { "if-match": '"0"' },
      { "if-match": 'W/"1"' },
    ]
    for (const headers of attempts) {
      const refused = await api.rest("POST", `/v1/transactions/${created.body.id}/reverse`, {
        headers,
      })
      expect(refused.status, JSON.stringify(headers)).toBe(400)
      expect(refused.body.error.issues[0].path).toEqual(["if-match"])
    }
  })

  it("posts and voids pending ones, and reverses a posted one, with or without a body", async () => {
    const toPost = await record({ direction: "debit", amount: 300, status: "pending" })
    const posted = await api.rest("POST", `/v1/transactions/${toPost.body.id}/post`, {
      headers: { "if-match": '"1"' },
    })
    expect(posted.status).toBe(200)
    expect(posted.body).toMatchObject({ status: "posted", version: 2 })
    expect(posted.headers.get("etag")).toBe('"2"')

    const toVoid = await record({ direction: "debit", amount: 300, status: "pending" })
    const voided = await api.rest("POST", `/v1/transactions/${toVoid.body.id}/void`, {
      headers: { "if-match": '"1"' },
    })
    expect(voided.body).toMatchObject({ status: "voided" })
    const again = await api.rest("POST", `/v1/transactions/${toVoid.body.id}/void`, {
      headers: { "if-match": '"2"' },
    })
    expect(again.status).toBe(409)
    expect(again.body.error.tag).toBe("InvalidStateTransition")

    const reversed = await api.rest("POST", `/v1/transactions/${posted.body.id}/reverse`, {
      headers: { "if-match": '"2"' },
    })
    expect(reversed.status).toBe(200)
    expect(reversed.body.original).toMatchObject({ status: "reversed" })
    expect(reversed.body.reversal).toMatchObject({ direction: "credit", amount: 300 })
    const described = await record({ direction: "debit", amount: 1 })
    const withBody = await api.rest("POST", `/v1/transactions/${described.body.id}/reverse`, {
      body: { description: "Refund" },
      headers: { "if-match": '"1"' },
    })
    expect(withBody.body.reversal.description).toBe("Refund")

    const history = await api.rest("GET", `/v1/transactions/${posted.body.id}/history`)
    expect(history.body.map((event: Json) => event.kind)).toEqual(["created", "posted", "reversed"])
  })

  it("lists with the tRPC filters as query parameters, numbers and times included", async () => {
    const search = randomUUID()
    for (const amount of [10, 20, 30]) {
      await record({ direction: "debit", amount, description: `${search} ${amount}` })
    }
    const page = await api.rest(
      "GET",
      `/v1/transactions?accountId=${accountId}&direction=debit&minAmount=15&search=${search}&limit=1`,
    )
    expect(page.status).toBe(200)
    expect(page.body.items.map((item: Json) => item.amount)).toEqual([30])
    expect(page.body.hasMore).toBe(true)
    const rest = await api.rest(
      "GET",
      `/v1/transactions?accountId=${accountId}&minAmount=15&search=${search}&cursor=${encodeURIComponent(page.body.nextCursor)}`,
    )
    expect(rest.body.items.map((item: Json) => item.amount)).toEqual([20])
    const badAmount = await api.rest("GET", "/v1/transactions?minAmount=-1")
    expect(badAmount.status).toBe(400)
    expect(badAmount.body.error.issues[0].path).toEqual(["minAmount"])
  })

  it("answers the change feed and summaries", async () => {
    // The feed shows a change once every older database transaction has ended: other test files
    // writing at the same moment can hold it back for a little while.
    const changes = await eventually(
      async () => {
        const page = await api.rest("GET", "/v1/transactions/changes?limit=2")
        expect(page.status).toBe(200)
        return page.body.items.length === 2 ? page : undefined
      },
      { what: "two changes in the feed" },
    )
    expect(changes.body.items.map((event: Json) => event.kind)).toEqual(["created", "created"])
    const summary = await api.rest(
      "GET",
      `/v1/transactions/summary?groupBy=category&occurredFrom=2000-01-01T00:00:00Z&occurredTo=2100-01-01T00:00:00Z&accountId=${accountId}`,
    )
    expect(summary.status).toBe(200)
    expect(summary.body.groups.length).toBeGreaterThan(0)
    const backwards = await api.rest(
      "GET",
      "/v1/transactions/summary?groupBy=day&occurredFrom=2026-02-01T00:00:00Z&occurredTo=2026-01-01T00:00:00Z",
    )
    expect(backwards.status).toBe(400)
    expect(backwards.body.error.issues[0].path).toEqual(["occurredTo"])
  })

  it("refuses a debit past the available balance 422 InsufficientFunds, writing nothing", async () => {
    const refused = await record({ direction: "debit", amount: 10_000_000 })
    expect(refused.status).toBe(422)
    expect(refused.body.error).toMatchObject({ tag: "InsufficientFunds", details: { accountId } })
  })

  it("records a batch in one call, all or none, naming a refused item's index and field", async () => {
    const key = randomUUID()
    const batch = {
      transactions: [1, 2, 3].map((i) => ({
        accountId,
        direction: "debit",
        amount: i,
        currency: "EUR",
      })),
    }
    const created = await api.rest("POST", "/v1/transactions/bulk", {
      body: batch,
      headers: { "idempotency-key": key },
    })
    expect(created.status).toBe(201)
    expect(created.body.transactions.map((t: Json) => t.amount)).toEqual([1, 2, 3])
    const replayed = await api.rest("POST", "/v1/transactions/bulk", {
      body: batch,
      headers: { "idempotency-key": key },
    })
    expect(replayed.headers.get("idempotent-replayed")).toBe("true")

    const refused = await api.rest("POST", "/v1/transactions/bulk", {
      body: {
        transactions: [
          { accountId, direction: "debit", amount: 1, currency: "EUR" },
          { accountId, direction: "debit", amount: 1, currency: "USD" },
        ],
      },
    })
    expect(refused.status).toBe(422)
    expect(refused.body.error).toMatchObject({
      tag: "CurrencyMismatch",
      details: { index: 1, field: "currency" },
    })
    const empty = await api.rest("POST", "/v1/transactions/bulk", { body: { transactions: [] } })
    expect(empty.status).toBe(400)
    expect(empty.body.error.issues[0].path).toEqual(["transactions"])
  })
})
