import { TRPCError } from "@trpc/server"
import { getHTTPStatusCodeFromError } from "@trpc/server/http"
import { Accounts, HoldScheduler } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { testDatabaseUrl, testDirectDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { errorTable } from "../src/errorTable.ts"
import { createAccount, LogCapture, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

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
    const account = await createAccount(api, { currency: "EUR" })
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
    const account = await createAccount(api)
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
    const account = await createAccount(api)
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

/** The app's real layer over the run's database; holds are not scheduled. */
const realAppLayer = (log: ReturnType<typeof makeLog>, databaseUrl = testDatabaseUrl()) =>
  makeAppLayer({
    databaseUrl,
    databaseDirectUrl: testDirectDatabaseUrl(),
    databasePoolMax: 2,
    holdScheduler: Layer.succeed(HoldScheduler, {
      schedule: () => Effect.void,
      scheduleMany: () => Effect.void,
    }),
    log,
  })

/** Words that would give away how the server is built or where it keeps its data. */
const internals = /stack|at .*\.ts|ECONNREFUSED|postgres|Redacted|pg_hba|secret-internal/i

describe("unexpected failures", () => {
  it("answer 500 InternalError with the request id and no internals, and log the cause", async () => {
    const logs = new LogCapture()
    const log = makeLog({ name: "api", level: "info", destination: logs })
    // Authentication works (real Access on the real database); every account use case dies.
    const dying = () =>
      Effect.die(new Error("connect ECONNREFUSED 127.0.0.1:5432 (postgres secret-internal)"))
    const broken = ManagedRuntime.make(
      Layer.merge(
        realAppLayer(log),
        Layer.succeed(
          Accounts,
          Accounts.of({ create: dying, get: dying, list: dying, balance: dying, update: dying }),
        ),
      ),
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
      expect(response.body.error.data.requestId).toBe("trace-500")
      expect(response.body.error.message).toBe(
        "Internal error; quote request id trace-500 when reporting it",
      )
      expect(JSON.stringify(response.body)).not.toMatch(internals)
      const failed = failing.logs.lines.find((line) => line.msg === "request failed")
      expect(failed).toMatchObject({ requestId: "trace-500" })
      expect(String(failed?.cause)).toContain("ECONNREFUSED")
      // The same runtime still authenticates and serves the use cases that work.
      const other = await failing.query("transactions.list", {})
      expect(other.status).toBe(200)
    } finally {
      await failing.close()
      await broken.dispose().catch(() => {})
    }
  })

  it("answer 503 Unavailable when the API key cannot be checked, with the request id and no internals", async () => {
    const logs = new LogCapture()
    const log = makeLog({ name: "api", level: "info", destination: logs })
    // A database that cannot be reached: no key can be checked, so authentication cannot finish.
    const broken = ManagedRuntime.make(
      realAppLayer(log, Redacted.make("postgres://postgres@127.0.0.1:1/unreachable")),
    )
    const failing = await startTestApi({ runtime: broken })
    try {
      const response = await failing.call(
        "accounts.list",
        {},
        { method: "GET", headers: { "x-request-id": "trace-503" } },
      )
      expect(response.status).toBe(503)
      expect(response.body.error.data.tag).toBe("Unavailable")
      expect(response.body.error.data.requestId).toBe("trace-503")
      expect(response.body.error.message).toBe("The API key cannot be checked right now; try again")
      expect(JSON.stringify(response.body)).not.toMatch(internals)
      expect(JSON.stringify(response.body)).not.toContain(failing.key)
      const failed = failing.logs.lines.find((line) => line.msg === "authentication failed")
      expect(failed).toMatchObject({ level: "error", requestId: "trace-503" })
      expect(String(failed?.cause)).not.toBe("")
      // Authentication stopped the request before any use case ran.
      expect(failing.logs.lines.some((line) => line.msg === "request failed")).toBe(false)
    } finally {
      await failing.close()
      await broken.dispose().catch(() => {})
    }
  })
})
