import { TRPCError } from "@trpc/server"
import { getHTTPStatusCodeFromError } from "@trpc/server/http"
import { HoldScheduler } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { errorTable } from "../src/errorTable.ts"
import { LogCapture, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

const createAccount = async (currency: string) =>
  (await api.mutate("accounts.create", { name: `Wallet ${currency}`, currency })).body.result.data

describe("the error table", () => {
  it("gives every domain error the HTTP status tRPC sends for its code", () => {
    for (const [tag, { code, status }] of Object.entries(errorTable)) {
      expect([tag, getHTTPStatusCodeFromError(new TRPCError({ code }))]).toEqual([tag, status])
    }
  })
})

describe("domain errors over HTTP", () => {
  it("answers an unknown account with 404 NotFound naming the resource", async () => {
    const response = await api.query("accounts.get", { id: "acc_00000000000000000000000000" })
    expect(response.status).toBe(404)
    expect(response.body.error.data).toMatchObject({
      tag: "NotFound",
      details: { resource: "account", id: "acc_00000000000000000000000000" },
    })
  })

  it("answers a transaction in another currency than its account with 422 CurrencyMismatch", async () => {
    const account = await createAccount("EUR")
    const response = await api.mutate("transactions.create", {
      accountId: account.id,
      direction: "debit",
      amount: 100,
      currency: "USD",
    })
    expect(response.status).toBe(422)
    expect(response.body.error.data).toMatchObject({
      tag: "CurrencyMismatch",
      details: { accountId: account.id, accountCurrency: "EUR", currency: "USD" },
    })
  })

  it("answers an expiry in the past with 400 naming expiresAt", async () => {
    const account = await createAccount("USD")
    const response = await api.mutate("transactions.create", {
      accountId: account.id,
      direction: "debit",
      amount: 100,
      currency: "USD",
      status: "pending",
      expiresAt: "2000-01-01T00:00:00Z",
    })
    expect(response.status).toBe(400)
    expect(response.body.error.data.tag).toBe("ValidationError")
    expect(response.body.error.data.issues.map((i: { path: Array<string> }) => i.path)).toEqual([
      ["expiresAt"],
    ])
  })

  it("answers an expiry on a posted transaction with 400 naming expiresAt", async () => {
    const account = await createAccount("USD")
    const response = await api.mutate("transactions.create", {
      accountId: account.id,
      direction: "debit",
      amount: 100,
      currency: "USD",
      expiresAt: "2999-01-01T00:00:00Z",
    })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toContain("expiresAt")
  })

  it("does not find an account another user owns", async () => {
    const other = await startTestApi()
    try {
      const foreign = (await other.mutate("accounts.create", { name: "Theirs", currency: "USD" }))
        .body.result.data
      const response = await api.query("accounts.get", { id: foreign.id })
      expect(response.status).toBe(404)
      const listed = await api.query("accounts.list", { limit: 200 })
      expect(listed.body.result.data.items.map((a: { id: string }) => a.id)).not.toContain(
        foreign.id,
      )
    } finally {
      await other.close()
    }
  })
})

describe("unexpected failures", () => {
  it("answer 500 InternalError with the request id and no internals, and log the cause", async () => {
    const logs = new LogCapture()
    const log = makeLog({ name: "api", level: "info", destination: logs })
    // A database that cannot be reached: every use case dies with a connection error.
    const broken = ManagedRuntime.make(
      makeAppLayer({
        databaseUrl: Redacted.make("postgres://postgres@127.0.0.1:1/unreachable"),
        databasePoolMax: 1,
        holdScheduler: Layer.succeed(HoldScheduler, { schedule: () => Effect.void }),
        log,
      }),
    )
    const failing = await startTestApi({ runtime: broken })
    try {
      const response = await failing.call(
        "accounts.list",
        {},
        { method: "GET", headers: { "x-request-id": "trace-500" } },
      )
      expect(response.status).toBe(500)
      expect(response.body.error.data.tag).toBe("InternalError")
      expect(response.body.error.message).toBe(
        "Internal error; quote request id trace-500 when reporting it",
      )
      const text = JSON.stringify(response.body)
      expect(text).not.toMatch(/stack|at .*\.ts|ECONNREFUSED|postgres|Redacted/i)
      const failed = failing.logs.lines.find((line) => line.msg === "request failed")
      expect(failed).toMatchObject({ requestId: "trace-500" })
      expect(String(failed?.cause)).not.toBe("")
    } finally {
      await failing.close()
      await broken.dispose().catch(() => {})
    }
  })
})
