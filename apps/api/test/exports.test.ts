import { randomBytes } from "node:crypto"
import { PgExportBuilder } from "@txn/db"
import { type ExportId, makeId } from "@txn/domain"
import { parse } from "csv-parse/sync"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeRateLimit } from "../src/rateLimit.ts"
import {
  createAccount,
  type Input,
  type Json,
  ok,
  rawRequest,
  startTestApi,
  type TestApi,
} from "./harness.ts"

let api: TestApi
/** Keys of other users holding one scope each. */
let readOnly: { userId: string; key: string }
let writeOnly: { userId: string; key: string }
beforeAll(async () => {
  api = await startTestApi()
  readOnly = await api.newUser(["read"])
  writeOnly = await api.newUser(["write"])
})
afterAll(() => api.close())

/** What the worker does once `export.created` is relayed, run here on the API's own database. */
const build = (id: string, options: PgExportBuilder.BuildOptions = {}) =>
  api.runtime.runPromise(PgExportBuilder.build(id as ExportId, options))

const download = (id: string, auth: string | null = api.key, init: RequestInit = {}) =>
  fetch(`${api.url}/v1/exports/${id}/download`, {
    ...init,
    headers: auth === null ? {} : { authorization: `Bearer ${auth}` },
  })

const errorOf = async (response: Response) => {
  expect(response.headers.get("content-type")).toBe("application/json")
  return ((await response.json()) as Json).error
}

/** The user's list with these filters, every page, as `transactions.list` answers it. */
const listAll = async (filters: Extract<Input<"transactions.list">, object>, key = api.key) => {
  const items: Array<Json> = []
  let cursor: string | undefined
  for (;;) {
    const page = ok(
      await api
        .as(key)
        .query("transactions.list", { ...filters, limit: 200, ...(cursor ? { cursor } : {}) }),
    )
    items.push(...page.items)
    if (!page.hasMore) return items
    cursor = page.nextCursor ?? undefined
  }
}

const account = async (key = api.key) =>
  createAccount(api.as(key), { name: "Export me", currency: "EUR", allowNegative: true })

const transaction = async (
  accountId: string,
  extra: Partial<Input<"transactions.create">> = {},
  key = api.key,
) =>
  ok(
    await api.as(key).mutate("transactions.create", {
      accountId,
      direction: "debit",
      amount: 1_250,
      currency: "EUR",
      ...extra,
    }),
  )

/** A completed export of the test user, with its CSV. */
const completedExport = async (filters: Input<"exports.create"> = {}) => {
  const created = ok(await api.mutate("exports.create", filters))
  await build(created.id)
  return ok(await api.query("exports.get", { id: created.id }))
}

describe("exports end to end", () => {
  it("is queued when created, completed with progress 1 once built, and downloads as the filtered list in CSV", async () => {
    const wallet = await account()
    const other = await account()
    const rows = [
      await transaction(wallet.id, { description: 'Coffee, "flat white"', category: "food" }),
      await transaction(wallet.id, {
        direction: "credit",
        amount: 99_999,
        description: '=HYPERLINK("http://evil.example")',
        counterparty: "@attacker",
        metadata: { orderId: "ord-1" },
        occurredAt: "2026-03-01T09:30:00+02:00",
      }),
      await transaction(wallet.id, { status: "pending", description: "Hotel\nhold" }),
    ]
    await transaction(other.id, { description: "Not in this export" })

    const created = ok(await api.mutate("exports.create", { accountId: wallet.id }))
    expect(created).toEqual({
      id: expect.stringMatching(/^exp_[0-9a-z]{26}$/),
      status: "queued",
      filters: { accountId: wallet.id },
      totalRows: null,
      rowsWritten: 0,
      progress: 0,
      bytes: 0,
      error: null,
      createdAt: expect.any(String),
      startedAt: null,
      completedAt: null,
      expiresAt: new Date(Date.parse(created.createdAt) + 7 * 86_400_000).toISOString(),
      downloadUrl: null,
    })
    expect(ok(await api.query("exports.get", { id: created.id }))).toEqual(created)
    const early = await download(created.id)
    expect(early.status).toBe(404)
    expect(await errorOf(early)).toMatchObject({
      tag: "NotFound",
      message: expect.stringContaining("queued"),
    })

    expect(await build(created.id)).toMatchObject({ _tag: "Completed", rows: 3 })
    const completed = ok(await api.query("exports.get", { id: created.id }))
    expect(completed).toEqual({
      ...created,
      status: "completed",
      totalRows: 3,
      rowsWritten: 3,
      progress: 1,
      bytes: expect.any(Number),
      startedAt: expect.any(String),
      completedAt: expect.any(String),
      downloadUrl: `/v1/exports/${created.id}/download`,
    })

    const response = await fetch(`${api.url}${completed.downloadUrl}`, {
      headers: { authorization: `Bearer ${api.key}` },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8")
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="${created.id}.csv"`,
    )
    expect(Number(response.headers.get("content-length"))).toBe(completed.bytes)
    const text = await response.text()
    expect(Buffer.byteLength(text)).toBe(completed.bytes)
    expect(text.split("\n")[0]).toBe(
      "id,occurredAt,accountId,direction,amount,currency,status,description,category," +
        "counterparty,reference,transferId,reversalOf,reversedBy,createdAt,updatedAt,metadata",
    )
    const records = parse(text, { columns: true }) as Array<Record<string, string>>
    const listed = await listAll({ accountId: wallet.id })
    expect(records.map((r) => r.id)).toEqual(listed.map((t: Json) => t.id))
    expect(new Set(listed.map((t: Json) => t.id))).toEqual(new Set(rows.map((t) => t.id)))
    const byId = new Map(records.map((r) => [r.id, r]))
    expect(byId.get(rows[0]!.id)).toMatchObject({
      description: 'Coffee, "flat white"',
      category: "food",
      amount: "1250",
      direction: "debit",
      status: "posted",
      counterparty: "",
      metadata: "{}",
    })
    expect(byId.get(rows[1]!.id)).toMatchObject({
      description: '\'=HYPERLINK("http://evil.example")',
      counterparty: "'@attacker",
      amount: "99999",
      occurredAt: "2026-03-01T07:30:00.000Z",
      metadata: '{"orderId":"ord-1"}',
    })
    expect(byId.get(rows[2]!.id)).toMatchObject({ status: "pending", description: "Hotel\nhold" })
  })

  it("streams a file of many chunks whole and in order", async () => {
    const wallet = await account()
    for (let i = 0; i < 40; i++) {
      await transaction(wallet.id, {
        description: `Purchase ${i} ${"x".repeat(i * 10)}`,
        occurredAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      })
    }
    const created = ok(await api.mutate("exports.create", { accountId: wallet.id }))
    await build(created.id, { batchSize: 3, chunkBytes: 500 })
    const [chunks] = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly count: number }>`
          select count(*)::int as count from export_chunks where export_id = ${created.id}`,
      ),
    )
    expect(chunks!.count).toBeGreaterThan(10)
    const response = await download(created.id)
    expect(response.status).toBe(200)
    const records = parse(await response.text(), { columns: true }) as Array<Record<string, string>>
    expect(records.map((r) => r.id)).toEqual(
      (await listAll({ accountId: wallet.id })).map((t: Json) => t.id),
    )
    expect(records).toHaveLength(40)
  })

  it("replays a retried create with the same idempotency key and refuses the key with another body", async () => {
    const idempotencyKey = `export-${randomBytes(4).toString("hex")}`
    const first = ok(await api.mutate("exports.create", { idempotencyKey, direction: "credit" }))
    const again = ok(await api.mutate("exports.create", { idempotencyKey, direction: "credit" }))
    expect(again).toEqual({ ...first, replayed: true })
    const reused = await api.mutate("exports.create", { idempotencyKey, direction: "debit" })
    expect(reused.status).toBe(422)
    expect(reused.body.error.data).toMatchObject({
      tag: "IdempotencyKeyReused",
      details: { idempotencyKey },
    })
  })

  it("answers hostile and oversized inputs with a typed 400 naming each bad field", async () => {
    const cases: ReadonlyArray<readonly [string, Record<string, unknown>, ReadonlyArray<string>]> =
      [
        ["exports.create", { search: "x".repeat(201) }, ["search"]],
        ["exports.create", { search: "" }, ["search"]],
        ["exports.create", { search: "nul\u0000byte" }, ["search"]],
        ["exports.create", { idempotencyKey: "k".repeat(256) }, ["idempotencyKey"]],
        ["exports.create", { idempotencyKey: "has space" }, ["idempotencyKey"]],
        ["exports.create", { minAmount: -1, maxAmount: 2 ** 53 }, ["minAmount", "maxAmount"]],
        ["exports.create", { minAmount: 1.5, maxAmount: "10" }, ["minAmount", "maxAmount"]],
        ["exports.create", { accountId: "acc_../../etc/passwd" }, ["accountId"]],
        ["exports.create", { status: "deleted", direction: "sideways" }, ["status", "direction"]],
        [
          "exports.create",
          { occurredFrom: "yesterday", occurredTo: "2026-02-30T00:00:00Z" },
          ["occurredFrom", "occurredTo"],
        ],
        ["exports.create", { category: "c".repeat(101) }, ["category"]],
        [
          "exports.create",
          { limit: 10, cursor: "abc", userId: api.userId },
          ["limit", "cursor", "userId"],
        ],
        ["exports.get", { id: "exp_short" }, ["id"]],
        ["exports.get", { id: `txn_${"a".repeat(26)}` }, ["id"]],
        ["exports.get", { id: `exp_${"A".repeat(26)}` }, ["id"]],
        ["exports.get", { id: 42 }, ["id"]],
        ["exports.get", {}, ["id"]],
      ]
    for (const [path, input, fields] of cases) {
      const response = await api.call(path, input, {
        method: path === "exports.get" ? "GET" : "POST",
      })
      const named = [
        ...new Set(response.body.error?.data?.issues?.map((i: Json) => String(i.path[0]))),
      ]
      expect([path, input, response.status, response.body.error?.data?.tag, named.sort()]).toEqual([
        path,
        input,
        400,
        "ValidationError",
        [...fields].sort(),
      ])
    }
    const huge = await fetch(`${api.url}/trpc/exports.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${api.key}` },
      body: JSON.stringify({ search: "x".repeat(1024 * 1024 + 1) }),
    })
    expect(huge.status).toBe(413)
  })

  it("answers exports.get for an id nobody has with NotFound", async () => {
    const id = makeId("exp")
    const response = await api.query("exports.get", { id })
    expect(response.status).toBe(404)
    expect(response.body.error.data).toMatchObject({
      tag: "NotFound",
      details: { resource: "export", id },
    })
  })
})

describe("downloads", () => {
  let mine: Json
  beforeAll(async () => {
    await transaction((await account()).id)
    mine = await completedExport()
  })

  it("needs an API key: none, an unknown one or another scheme answers 401 Unauthorized", async () => {
    for (const headers of [
      {},
      { authorization: `Bearer txn_${randomBytes(32).toString("base64url")}` },
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearer " },
    ]) {
      const response = await fetch(`${api.url}/v1/exports/${mine.id}/download`, { headers })
      expect(response.status).toBe(401)
      expect(await errorOf(response)).toMatchObject({
        tag: "Unauthorized",
        requestId: expect.any(String),
      })
    }
  })

  it("needs the read scope: a write-only key or the admin token answers 403 Forbidden", async () => {
    for (const key of [writeOnly.key, api.adminToken]) {
      const response = await download(mine.id, key)
      expect(response.status).toBe(403)
      expect(await errorOf(response)).toMatchObject({
        tag: "Forbidden",
        details: { requiredScope: "read" },
      })
    }
  })

  it("lets a read-only key download its own user's export", async () => {
    const theirs = ok(await api.as(writeOnly.key).mutate("exports.create", {}))
    // The read-only user's own export, made through SQL: its key cannot create one.
    const own = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly id: string }>`
          insert into exports (id, user_id, created_at, expires_at)
          values (${makeId("exp")}, ${readOnly.userId}, now(), now() + interval '7 days')
          returning id`,
      ),
    )
    await build(own[0]!.id)
    const response = await download(own[0]!.id, readOnly.key)
    expect(response.status).toBe(200)
    expect((await response.text()).split("\n")).toEqual([PgExportBuilder.csvColumns.join(","), ""])
    expect((await download(theirs.id, readOnly.key)).status).toBe(404)
  })

  it("answers a malformed id with 400 ValidationError naming id, before looking anything up", async () => {
    for (const id of [
      "exp_short",
      "txn_aaaaaaaaaaaaaaaaaaaaaaaaaa",
      "%E0%A4%A",
      "exp_%00",
      "..%2F..%2Fetc",
      "",
    ]) {
      const response = await download(id)
      expect([id, response.status]).toEqual([id, 400])
      expect(await errorOf(response)).toMatchObject({
        tag: "ValidationError",
        issues: [{ path: ["id"], message: expect.any(String) }],
      })
    }
  })

  it("answers another user's export exactly as one that never existed: 404 NotFound", async () => {
    const other = await api.newUser(["read", "write"])
    const missingId = makeId("exp")
    const [foreign, missing] = [
      await download(mine.id, other.key),
      await download(missingId, other.key),
    ]
    expect([foreign.status, missing.status]).toEqual([404, 404])
    const strip = (error: Json, id: string) => {
      const { requestId: _, ...rest } = error
      return JSON.parse(JSON.stringify(rest).replaceAll(id, "<id>"))
    }
    expect(strip(await errorOf(foreign), mine.id)).toEqual(strip(await errorOf(missing), missingId))
    const { status } = await api.as(other.key).query("exports.get", { id: mine.id })
    expect(status).toBe(404)
  })

  it("answers 404 for an own export that is not completed, failed or expired, saying which", async () => {
    const queued = ok(await api.mutate("exports.create", { category: "queued-one" }))
    const failed = ok(await api.mutate("exports.create", { category: "failed-one" }))
    await api.runtime.runPromise(PgExportBuilder.markFailed(failed.id, "Gave up"))
    const expired = await completedExport({ category: "expired-one" })
    await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) =>
          sql`update exports set expires_at = now() - interval '1 second' where id = ${expired.id}`,
      ),
    )
    for (const [id, says] of [
      [queued.id, "queued"],
      [failed.id, "failed"],
      [expired.id, "No export"],
    ] as const) {
      const response = await download(id)
      expect(response.status).toBe(404)
      expect(await errorOf(response)).toMatchObject({
        tag: "NotFound",
        message: expect.stringContaining(says),
        details: { resource: "export", id },
      })
    }
  })

  it("refuses other methods with 405 and an Allow header", async () => {
    const response = await download(mine.id, api.key, { method: "POST" })
    expect(response.status).toBe(405)
    expect(response.headers.get("allow")).toBe("GET")
    expect(await errorOf(response)).toMatchObject({
      tag: "MethodNotAllowed",
      details: { allowed: ["GET"] },
    })
  })

  it("refuses two Authorization headers with 400 ValidationError naming the header", async () => {
    const response = await rawRequest(`${api.url}/v1/exports/${mine.id}/download`, {
      headers: { authorization: [`Bearer ${api.key}`, `Bearer ${api.key}`] },
    })
    expect(response.status).toBe(400)
    expect(response.body.error).toMatchObject({
      tag: "ValidationError",
      issues: [{ path: ["authorization"], message: expect.stringContaining("one Authorization") }],
    })
  })

  it("counts downloads against the caller's rate limit, with RateLimit headers and 429 after it", async () => {
    const limited = await startTestApi({ rateLimit: makeRateLimit({ points: 2 }) })
    try {
      const get = () =>
        fetch(`${limited.url}/v1/exports/${makeId("exp")}/download`, {
          headers: { authorization: `Bearer ${limited.key}` },
        })
      const first = await get()
      expect(first.status).toBe(404)
      expect(first.headers.get("ratelimit-limit")).toBe("2")
      expect(first.headers.get("ratelimit-remaining")).toBe("1")
      expect((await get()).status).toBe(404)
      const refused = await get()
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0)
      expect(await errorOf(refused)).toMatchObject({
        tag: "RateLimited",
        details: { retryAfterSeconds: expect.any(Number) },
      })
    } finally {
      await limited.close()
    }
  })
})
