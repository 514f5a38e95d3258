import { TRPCClientError } from "@trpc/client"
import { eventually } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeRateLimit } from "../../../apps/api/src/rateLimit.ts"
import { startTestApi, type TestApi } from "../../../apps/api/test/harness.ts"
import {
  createTxnClient,
  errorTag,
  isTxnError,
  type TxnClient,
  type TxnClientError,
} from "../src/index.ts"
import { rejectionOf } from "./rejectionOf.ts"

let api: TestApi
let client: TxnClient
beforeAll(async () => {
  api = await startTestApi()
  client = createTxnClient({ url: api.url, apiKey: api.key })
})
afterAll(() => api.close())

const missingTransactionId = `txn_${"0".repeat(26)}`

/** An account that may go negative: these tests debit it without funding it first. */
const newAccount = (currency = "USD") =>
  client.accounts.create.mutate({ name: `Client ${currency}`, currency, allowNegative: true })

describe("createTxnClient against the running API", () => {
  it("creates an account and a transaction, then reads the transaction back", async () => {
    const account = await newAccount("EUR")
    expect(account).toMatchObject({ name: "Client EUR", currency: "EUR", userId: api.userId })
    expect(await client.accounts.get.query({ id: account.id })).toEqual(account)

    const created = await client.transactions.create.mutate({
      accountId: account.id,
      direction: "credit",
      amount: 12_345,
      currency: "EUR",
      description: "Invoice 7",
      occurredAt: "2026-02-01T10:00:00Z",
    })
    expect(created).toMatchObject({
      accountId: account.id,
      direction: "credit",
      amount: 12_345,
      currency: "EUR",
      status: "posted",
      description: "Invoice 7",
      occurredAt: "2026-02-01T10:00:00.000Z",
      version: 1,
    })
    expect(created.id).toMatch(/^txn_[0-9a-z]{26}$/)
    expect(await client.transactions.get.query({ id: created.id })).toEqual(created)
  })

  it("creates a batch in one call, answered in the order sent, and names a refused item", async () => {
    const account = await newAccount("EUR")
    const { transactions } = await client.transactions.createMany.mutate({
      idempotencyKey: `client-batch-${account.id}`,
      transactions: [
        { accountId: account.id, direction: "credit", amount: 300, currency: "EUR" },
        {
          accountId: account.id,
          direction: "debit",
          amount: 100,
          currency: "EUR",
          status: "pending",
        },
      ],
    })
    expect(transactions.map((t) => [t.direction, t.amount, t.status])).toEqual([
      ["credit", 300, "posted"],
      ["debit", 100, "pending"],
    ])
    expect(await client.accounts.balance.query({ id: account.id })).toMatchObject({
      posted: 300,
      available: 200,
    })

    const error = await rejectionOf(
      client.transactions.createMany.mutate({
        transactions: [
          { accountId: account.id, direction: "credit", amount: 1, currency: "EUR" },
          { accountId: account.id, direction: "credit", amount: 1, currency: "USD" },
        ],
      }),
    )
    if (!isTxnError(error, "CurrencyMismatch")) throw new Error("expected a CurrencyMismatch")
    expect(error.data?.details).toMatchObject({ index: 1, field: "currency" })
  })

  it("lists with a filter and pages through every match with the cursor", async () => {
    const account = await newAccount()
    const create = (index: number, direction: "credit" | "debit") =>
      client.transactions.create.mutate({
        accountId: account.id,
        direction,
        amount: 100 + index,
        currency: "USD",
        occurredAt: `2026-01-0${index}T12:00:00Z`,
      })
    const debits = []
    for (const index of [1, 2, 3, 4, 5]) debits.push(await create(index, "debit"))
    const credit = await create(6, "credit")

    const pages = []
    let cursor: string | undefined
    do {
      const page = await client.transactions.list.query({
        accountId: account.id,
        direction: "debit",
        limit: 2,
        ...(cursor === undefined ? {} : { cursor }),
      })
      pages.push(page)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined && pages.length < 10)

    expect(pages.map((page) => [page.items.length, page.hasMore])).toEqual([
      [2, true],
      [2, true],
      [1, false],
    ])
    expect(pages.at(-1)?.nextCursor).toBeNull()
    const listed = pages.flatMap((page) => page.items)
    // Newest occurredAt first, each match exactly once, the credit left out.
    expect(listed.map((t) => t.id)).toEqual(debits.map((t) => t.id).reverse())
    expect(listed.map((t) => t.id)).not.toContain(credit.id)

    const everything = await client.transactions.list.query({ accountId: account.id })
    expect(everything.items.map((t) => t.id)).toContain(credit.id)
    expect(everything).toMatchObject({ hasMore: false, nextCursor: null })
  })

  it("updates with the current expectedVersion and returns the next version", async () => {
    const account = await newAccount()
    const created = await client.transactions.create.mutate({
      accountId: account.id,
      direction: "debit",
      amount: 990,
      currency: "USD",
    })
    const updated = await client.transactions.update.mutate({
      id: created.id,
      expectedVersion: 1,
      description: "Groceries",
      category: "food",
    })
    expect(updated).toMatchObject({
      id: created.id,
      description: "Groceries",
      category: "food",
      amount: 990,
      version: 2,
    })
    expect(await client.transactions.get.query({ id: created.id })).toEqual(updated)
  })

  it("rejects a stale expectedVersion with a VersionConflict the caller can narrow", async () => {
    const account = await newAccount()
    const created = await client.transactions.create.mutate({
      accountId: account.id,
      direction: "debit",
      amount: 500,
      currency: "USD",
    })
    await client.transactions.update.mutate({ id: created.id, expectedVersion: 1, category: "a" })

    const error = await rejectionOf(
      client.transactions.update.mutate({ id: created.id, expectedVersion: 1, category: "b" }),
    )
    expect(error).toBeInstanceOf(TRPCClientError)
    expect(errorTag(error)).toBe("VersionConflict")
    expect(isTxnError(error, "NotFound")).toBe(false)
    if (!isTxnError(error, "VersionConflict")) throw new Error("expected a VersionConflict")
    expect(error.data).toMatchObject({
      tag: "VersionConflict",
      code: "CONFLICT",
      httpStatus: 409,
      path: "transactions.update",
      details: { id: created.id, expectedVersion: 1, currentVersion: 2 },
    })
    expect(error.message).toBe(`Transaction ${created.id} is at version 2, not 1`)
    expect((await client.transactions.get.query({ id: created.id })).category).toBe("a")
  })

  it("rejects bad input with a ValidationError naming every bad field", async () => {
    const account = await newAccount()
    const error = await rejectionOf(
      client.transactions.create.mutate({
        accountId: account.id,
        direction: "debit",
        amount: -5,
        currency: "usd",
      }),
    )
    expect(errorTag(error)).toBe("ValidationError")
    if (!isTxnError(error, "ValidationError")) throw new Error("expected a ValidationError")
    expect(error.data?.httpStatus).toBe(400)
    const fields = (error.data?.issues ?? []).map((issue) => issue.path.join("."))
    expect(fields).toContain("amount")
    expect(fields).toContain("currency")
    expect(fields).not.toContain("accountId")
    expect(error.message).toContain("amount")
  })

  it("reports a query input too long for any URL as a ValidationError", async () => {
    const error = await rejectionOf(client.transactions.list.query({ search: "x".repeat(40_000) }))
    expect(errorTag(error)).toBe("ValidationError")
    if (!isTxnError(error, "ValidationError")) throw new Error("expected a ValidationError")
    expect(error.data?.issues?.map((issue) => issue.path.join("."))).toEqual(["search"])
  })

  it("answers an id nobody has with NotFound", async () => {
    const error = await rejectionOf(client.transactions.get.query({ id: missingTransactionId }))
    expect(errorTag(error)).toBe("NotFound")
    expect(isTxnError(error, "NotFound")).toBe(true)
    if (!isTxnError(error, "NotFound")) throw new Error("expected a NotFound")
    expect(error.data).toMatchObject({
      httpStatus: 404,
      details: { resource: "transaction", id: missingTransactionId },
    })
  })

  it("answers a procedure the API does not have with NotFound", async () => {
    const untyped = client as unknown as {
      transactions: { remove: { mutate: (input: unknown) => Promise<unknown> } }
    }
    const error = await rejectionOf(
      untyped.transactions.remove.mutate({ id: missingTransactionId }),
    )
    expect(errorTag(error)).toBe("NotFound")
  })

  it("tells API errors from other errors", () => {
    expect(errorTag(new Error("network down"))).toBeUndefined()
    expect(errorTag("NotFound")).toBeUndefined()
    expect(errorTag(undefined)).toBeUndefined()
    expect(isTxnError(new TypeError("fetch failed"), "Unavailable")).toBe(false)
    expect(isTxnError({ data: { tag: "NotFound" } }, "NotFound")).toBe(false)
  })

  it("accepts a base URL with a trailing slash", async () => {
    const slashed = createTxnClient({ url: `${api.url}/`, apiKey: api.key })
    const error = await rejectionOf(slashed.transactions.get.query({ id: missingTransactionId }))
    expect(errorTag(error)).toBe("NotFound")
    expect((await slashed.accounts.list.query()).items.length).toBeGreaterThan(0)
  })
})

describe("batching", () => {
  /** A client whose every HTTP request is recorded before it is sent. */
  const recordingClient = (batch: boolean | undefined) => {
    const requests: Array<{ method: string; url: string }> = []
    const recorded = createTxnClient({
      url: api.url,
      apiKey: api.key,
      ...(batch === undefined ? {} : { batch }),
      fetch: (input, init) => {
        requests.push({ method: init?.method ?? "GET", url: String(input) })
        return fetch(input, init)
      },
    })
    return { client: recorded, requests }
  }

  it("sends calls made together as one HTTP request by default", async () => {
    const account = await newAccount()
    const { client: batched, requests } = recordingClient(undefined)
    const [read, listed, missing] = await Promise.allSettled([
      batched.accounts.get.query({ id: account.id }),
      batched.accounts.list.query({ currency: "USD" }),
      batched.transactions.get.query({ id: missingTransactionId }),
    ])
    expect(read).toEqual({ status: "fulfilled", value: account })
    expect(listed.status === "fulfilled" && listed.value.items.map((a) => a.id)).toContain(
      account.id,
    )
    expect(missing.status === "rejected" && errorTag(missing.reason)).toBe("NotFound")
    expect(requests).toHaveLength(1)
    expect(requests[0]?.url).toContain("accounts.get,accounts.list,transactions.get")
  })

  it("sends one HTTP request per call with batch: false", async () => {
    const account = await newAccount()
    const { client: unbatched, requests } = recordingClient(false)
    const [read, listed, missing] = await Promise.allSettled([
      unbatched.accounts.get.query({ id: account.id }),
      unbatched.accounts.list.query({ currency: "USD" }),
      unbatched.transactions.get.query({ id: missingTransactionId }),
    ])
    expect(read).toEqual({ status: "fulfilled", value: account })
    expect(listed.status === "fulfilled" && listed.value.items.map((a) => a.id)).toContain(
      account.id,
    )
    expect(missing.status === "rejected" && errorTag(missing.reason)).toBe("NotFound")
    expect(requests).toHaveLength(3)
  })

  it("batches mutations too, each with its own answer", async () => {
    const { client: batched, requests } = recordingClient(true)
    const [usd, jpy] = await Promise.all([
      batched.accounts.create.mutate({ name: "Batch USD", currency: "USD" }),
      batched.accounts.create.mutate({ name: "Batch JPY", currency: "JPY" }),
    ])
    expect([usd.currency, jpy.currency]).toEqual(["USD", "JPY"])
    expect(usd.id).not.toBe(jpy.id)
    expect(requests).toHaveLength(1)
  })

  it("answers a batch of many large queries instead of outgrowing the server's URL limit", async () => {
    const account = await newAccount()
    // Each search is valid (200 characters); twenty of them do not fit in 16 KiB of URL.
    const search = "ü€".repeat(100)
    const { client: batched, requests } = recordingClient(true)
    const pages = await Promise.all(
      Array.from({ length: 20 }, () =>
        batched.transactions.list.query({ accountId: account.id, search }),
      ),
    )
    expect(pages.map((page) => page.items.length)).toEqual(Array(20).fill(0))
    expect(requests.length).toBeGreaterThan(0)
  })
})

describe("a batch refused as a whole", () => {
  it("rejects every call of a batch over the server's cap with PayloadTooLarge", async () => {
    const capped = await startTestApi({ maxBatchCalls: 2 })
    try {
      const batched = createTxnClient({ url: capped.url, apiKey: capped.key })
      const outcomes = await Promise.allSettled([
        batched.accounts.list.query({}),
        batched.accounts.list.query({}),
        batched.accounts.list.query({}),
      ])
      for (const outcome of outcomes) {
        expect(outcome.status === "rejected" && errorTag(outcome.reason)).toBe("PayloadTooLarge")
        expect(
          outcome.status === "rejected" && (outcome.reason as TxnClientError).data?.details,
        ).toEqual({
          limit: 2,
          unit: "calls",
        })
      }
    } finally {
      await capped.close()
    }
  })

  it("runs the calls that fit the rate limit, then rejects a spent budget's batch as RateLimited", async () => {
    const limited = await startTestApi({ rateLimit: makeRateLimit({ points: 2 }) })
    try {
      // Without retries: this is about what the server answers, not how long the client waits.
      const batched = createTxnClient({ url: limited.url, apiKey: limited.key, retry: false })
      const three = () =>
        Promise.allSettled([
          batched.accounts.list.query({}),
          batched.accounts.list.query({}),
          batched.accounts.list.query({}),
        ])
      const tags = (outcomes: Awaited<ReturnType<typeof three>>) =>
        outcomes.map((outcome) => (outcome.status === "rejected" ? errorTag(outcome.reason) : "ok"))
      expect(tags(await three())).toEqual(["ok", "ok", "RateLimited"])
      expect(tags(await three())).toEqual(["RateLimited", "RateLimited", "RateLimited"])
    } finally {
      await limited.close()
    }
  })
})

describe("headers", () => {
  /** The server's access-log line for a request id, once the response has finished. */
  const accessLogOf = (requestId: string) =>
    eventually(
      async () =>
        api.logs.lines.find((line) => line.msg === "request" && line.requestId === requestId),
      { what: `the access log line of ${requestId}` },
    )

  it("sends fixed headers with every request", async () => {
    const requestId = `client-fixed-${Date.now()}`
    const withHeaders = createTxnClient({
      url: api.url,
      apiKey: api.key,
      headers: { "x-request-id": requestId },
    })
    const error = await rejectionOf(
      withHeaders.transactions.get.query({ id: missingTransactionId }),
    )
    if (!isTxnError(error, "NotFound")) throw new Error("expected a NotFound")
    expect(error.data?.requestId).toBe(requestId)
    expect(await accessLogOf(requestId)).toMatchObject({ path: "/trpc/transactions.get" })
  })

  it("computes headers for each request when given a function", async () => {
    let calls = 0
    const prefix = `client-fn-${Date.now()}`
    const echoed: Array<string | null> = []
    const withHeaders = createTxnClient({
      url: api.url,
      apiKey: api.key,
      batch: false,
      headers: async () => ({ "x-request-id": `${prefix}-${++calls}` }),
      fetch: async (input, init) => {
        const response = await fetch(input, init)
        echoed.push(response.headers.get("x-request-id"))
        return response
      },
    })
    const account = await withHeaders.accounts.create.mutate({ name: "Headers", currency: "USD" })
    await withHeaders.accounts.get.query({ id: account.id })
    expect(calls).toBe(2)
    expect(echoed).toEqual([`${prefix}-1`, `${prefix}-2`])
    expect(await accessLogOf(`${prefix}-1`)).toMatchObject({ path: "/trpc/accounts.create" })
    expect(await accessLogOf(`${prefix}-2`)).toMatchObject({ path: "/trpc/accounts.get" })
  })
})

describe("live changes through the client", () => {
  it("subscribes with the key in a header and receives a transaction as it is created", async () => {
    const account = await newAccount()
    const received: Array<{ transactionId: string; kind: string }> = []
    let started!: () => void
    const ready = new Promise<void>((resolve) => {
      started = resolve
    })
    const subscription = client.transactions.live.subscribe(
      { accountId: account.id },
      {
        onStarted: () => started(),
        onData: (event) => received.push(event.data),
      },
    )
    await ready
    const created = await client.transactions.create.mutate({
      accountId: account.id,
      direction: "debit",
      amount: 5,
      currency: "USD",
    })
    await eventually(async () => (received.length > 0 ? true : undefined))
    subscription.unsubscribe()
    expect(received[0]).toMatchObject({ transactionId: created.id, kind: "created" })
  })
})
