import { Accounts, HoldScheduler } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { LogCapture, testDatabaseUrl, testDirectDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestApi, type TestApi } from "./harness.ts"

/** How many hung use cases have begun, and how many were interrupted. */
let begun = 0
let interrupted = 0
const hang = () =>
  Effect.sync(() => {
    begun++
  }).pipe(
    Effect.andThen(Effect.never),
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        interrupted++
      }),
    ),
  )

/**
 * The real app (PostgreSQL, Access, Transactions) except that every account use case never
 * finishes, as if its query were stuck behind a lock.
 */
const hangingRuntime = ManagedRuntime.make(
  Layer.merge(
    makeAppLayer({
      databaseUrl: testDatabaseUrl(),
      databaseDirectUrl: testDirectDatabaseUrl(),
      databasePoolMax: 3,
      holdScheduler: Layer.succeed(HoldScheduler, {
        schedule: () => Effect.void,
        scheduleMany: () => Effect.void,
      }),
      log: makeLog({ name: "api", level: "info", destination: new LogCapture() }),
    }),
    Layer.succeed(
      Accounts,
      Accounts.of({ create: hang, get: hang, list: hang, balance: hang, update: hang }),
    ),
  ),
)

let api: TestApi
beforeAll(async () => {
  api = await startTestApi({ runtime: hangingRuntime, requestTimeoutMs: 300 })
})
afterAll(async () => {
  await api.close()
  await hangingRuntime.dispose()
})

const expectTimedOut = (response: Awaited<ReturnType<TestApi["call"]>>) => {
  expect(response.status).toBe(503)
  expect(response.body.error.data.tag).toBe("Unavailable")
  expect(response.body.error.message).toBe("The request took too long; try again")
}

describe("a use case slower than the request timeout", () => {
  it("answers 503 Unavailable and interrupts the use case", async () => {
    const before = interrupted
    expectTimedOut(await api.query("accounts.list", {}))
    expectTimedOut(await api.mutate("accounts.create", { name: "Stuck", currency: "USD" }))
    expect(interrupted - before).toBe(2)
    const logged = api.logs.lines.filter((line) => line.msg === "request" && line.status === 503)
    expect(logged).toHaveLength(2)
  })

  it("answers every one of many concurrent hung requests", async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api.query("accounts.list", {})),
    )
    for (const response of responses) expectTimedOut(response)
  })

  it("leaves the server answering other requests, during and after", async () => {
    const stuck = api.query("accounts.list", {})
    const health = await fetch(`${api.url}/healthz`)
    expect(health.status).toBe(200)
    // Transactions do not go through the hung Accounts service.
    const listed = await api.query("transactions.list", {})
    expect(listed.status).toBe(200)
    expect(listed.body.result.data.items).toEqual([])
    const user = await api.as(api.adminToken).mutate("admin.users.create", { name: "Still here" })
    expect(user.status).toBe(200)
    expectTimedOut(await stuck)

    expect((await api.query("transactions.list", {})).status).toBe(200)
    expect((await api.query("accounts.get", { id: "acc_00000000000000000000000000" })).status).toBe(
      503,
    )
  })
})

describe("a client that leaves before its answer", () => {
  let patient: TestApi
  beforeAll(async () => {
    // The request timeout is far off: only the client's leaving can end the use case.
    patient = await startTestApi({ runtime: hangingRuntime, requestTimeoutMs: 120_000 })
  })
  afterAll(async () => {
    await patient.close()
  })

  /** Sends `init` to `path`, leaves once its use case has begun, and waits for it to stop. */
  const leaveMidway = async (path: string, init: RequestInit) => {
    const [beganBefore, interruptedBefore] = [begun, interrupted]
    const abort = new AbortController()
    const sent = fetch(`${patient.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${patient.key}`, "content-type": "application/json" },
      signal: abort.signal,
    }).catch((error: unknown) => error)
    await expect.poll(() => begun - beganBefore, { timeout: 10_000 }).toBe(1)
    abort.abort()
    expect(await sent).toBeInstanceOf(Error)
    await expect.poll(() => interrupted - interruptedBefore, { timeout: 10_000 }).toBe(1)
  }

  it("has its REST use case interrupted", async () => {
    await leaveMidway("/v1/accounts", {
      method: "POST",
      body: JSON.stringify({ name: "Left", currency: "USD" }),
    })
    await leaveMidway("/v1/accounts", { method: "GET" })
  })

  it("has its tRPC use case interrupted", async () => {
    await leaveMidway("/trpc/accounts.create", {
      method: "POST",
      body: JSON.stringify({ name: "Left", currency: "USD" }),
    })
  })

  it("is logged as a request the client left (499), with no error", async () => {
    const before = patient.logs.lines.length
    await leaveMidway("/v1/accounts", { method: "GET" })
    await leaveMidway("/trpc/accounts.create", {
      method: "POST",
      body: JSON.stringify({ name: "Left", currency: "USD" }),
    })
    const requests = () => patient.logs.lines.slice(before).filter((line) => line.msg === "request")
    await expect.poll(() => requests().length).toBe(2)
    expect(
      requests().map(({ path, status, clientLeft }) => ({ path, status, clientLeft })),
    ).toEqual([
      { path: "/v1/accounts", status: 499, clientLeft: true },
      { path: "/trpc/accounts.create", status: 499, clientLeft: true },
    ])
    expect(patient.logs.lines.slice(before).filter((line) => Number(line.level) >= 50)).toEqual([])
  })
})
