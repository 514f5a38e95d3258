import { Accounts, HoldScheduler } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { LogCapture, testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestApi, type TestApi } from "./harness.ts"

/** How many hung use cases the timeout has interrupted. */
let interrupted = 0
const hang = () =>
  Effect.never.pipe(
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
    const user = await api.call(
      "admin.users.create",
      { name: "Still here" },
      { auth: api.adminToken },
    )
    expect(user.status).toBe(200)
    expectTimedOut(await stuck)

    expect((await api.query("transactions.list", {})).status).toBe(200)
    expect((await api.query("accounts.get", { id: "acc_00000000000000000000000000" })).status).toBe(
      503,
    )
  })
})
