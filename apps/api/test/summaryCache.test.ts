import { once } from "node:events"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ApiProcess, startApiProcess } from "./apiProcess.ts"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let cached: ApiProcess
let uncached: ApiProcess
beforeAll(async () => {
  api = await startTestApi()
  // Two more API processes on the same database, started as `npm start` starts them.
  cached = await startApiProcess()
  uncached = await startApiProcess({ TXN_SUMMARY_CACHE_MAX: "0" })
  await Promise.all([cached.waitFor("api listening"), uncached.waitFor("api listening")])
})
afterAll(async () => {
  for (const process of [cached, uncached]) {
    if (process?.proc.exitCode === null) {
      process.proc.kill("SIGTERM")
      await once(process.proc, "exit")
    }
  }
  await api?.close()
})

const call = async (on: ApiProcess, method: "GET" | "POST", path: string, input: unknown) => {
  const url = `http://127.0.0.1:${on.port}/trpc/${path}`
  const response =
    method === "GET"
      ? await fetch(`${url}?input=${encodeURIComponent(JSON.stringify(input))}`, {
          headers: { authorization: `Bearer ${api.key}` },
        })
      : await fetch(url, {
          method,
          headers: { authorization: `Bearer ${api.key}`, "content-type": "application/json" },
          body: JSON.stringify(input),
        })
  const body = (await response.json()) as Json
  expect([path, response.status]).toEqual([path, 200])
  return body.result.data as Json
}

const byMonth = {
  groupBy: "month",
  occurredFrom: "2031-01-01T00:00:00Z",
  occurredTo: "2032-01-01T00:00:00Z",
}
const totals = async (on: ApiProcess) =>
  (await call(on, "GET", "transactions.summary", byMonth)).groups as Array<Json>

describe("summaries on API processes started as npm start starts them", () => {
  it("are kept by default, and never served after a change made through another process", async () => {
    const account = await call(cached, "POST", "accounts.create", {
      name: "Summarized",
      currency: "USD",
    })
    const credit = (on: ApiProcess, amount: number) =>
      call(on, "POST", "transactions.create", {
        accountId: account.id,
        direction: "credit",
        amount,
        currency: "USD",
        occurredAt: "2031-06-15T12:00:00Z",
      })
    await credit(uncached, 100)
    expect(await totals(cached)).toMatchObject([{ key: "2031-06", credits: 100, count: 1 }])

    // Written through the other process: the next summary here counts it at once.
    await credit(uncached, 20)
    expect(await totals(cached)).toMatchObject([{ key: "2031-06", credits: 120, count: 2 }])

    // A change made without the history event every write of the API makes is one no cache
    // rule can see: the default process serves what it kept, the one without a cache does not.
    const client = new pg.Client({
      connectionString: process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL,
    })
    await client.connect()
    try {
      await client.query("update transactions set amount = amount + 1 where account_id = $1", [
        account.id,
      ])
    } finally {
      await client.end()
    }
    expect(await totals(cached)).toMatchObject([{ credits: 120 }])
    expect(await totals(uncached)).toMatchObject([{ credits: 122 }])
    await credit(uncached, 3)
    expect(await totals(cached)).toMatchObject([{ credits: 125, count: 3 }])
  })
})
