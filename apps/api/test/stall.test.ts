import { randomBytes } from "node:crypto"
import { PgExportBuilder } from "@txn/db"
import type { ExportId } from "@txn/domain"
import {
  type StallingProxy,
  startStallingProxy,
  testDatabaseUrl,
  testRedisUrl,
  uniquePrefix,
} from "@txn/testing"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeRateLimit } from "../src/rateLimit.ts"
import { makeReadinessCheck } from "../src/readiness.ts"
import { type Json, ok, startTestApi, type TestApi } from "./harness.ts"

/** A test API and the proxy in front of one of its dependencies. */
interface Rig {
  readonly api: TestApi
  readonly proxy: StallingProxy
}

/** A loopback proxy in front of the server at `url` and the same URL pointed at the proxy. */
const proxyFor = async (url: string) => {
  const target = new URL(url)
  const proxy = await startStallingProxy({
    host: target.hostname,
    port: Number(target.port || (target.protocol === "redis:" ? 6379 : 5432)),
  })
  const proxied = new URL(target)
  proxied.hostname = "127.0.0.1"
  proxied.port = String(proxy.port)
  return { proxy, url: proxied }
}

/**
 * The real API whose every connection to PostgreSQL (the app's pool, the queue's, cancel
 * requests) goes through a proxy the tests stall, as if every PostgreSQL process were stopped.
 */
let pg: Rig
const requestTimeoutMs = 1000
/**
 * Longer than the request timeout many times over, and than the 5 s the driver gives a cancel
 * request before it drops a connection: the pool must come back from connections it dropped.
 */
const stallMs = 8000

beforeAll(async () => {
  const { proxy, url } = await proxyFor(Redacted.value(testDatabaseUrl()))
  const api = await startTestApi({
    databaseUrl: Redacted.make(url.toString()),
    requestTimeoutMs,
    readiness: makeReadinessCheck,
  })
  pg = { api, proxy }
})
afterAll(async () => {
  pg.proxy.resume()
  await pg.api.close()
  await pg.proxy.close()
})

interface Answer {
  readonly status: number
  readonly retryAfter: string | null
  readonly tag: string | undefined
  readonly body: Json
  /** Whether the dependency was still stalled when the answer arrived. */
  readonly duringStall: boolean
}

const answer = async (rig: Rig, response: Promise<Response>): Promise<Answer> => {
  const got = await response
  const duringStall = rig.proxy.isStalled()
  const text = await got.text()
  const body: Json =
    got.headers.get("content-type") === "application/json" ? JSON.parse(text) : text
  return {
    status: got.status,
    retryAfter: got.headers.get("retry-after"),
    tag: body?.error?.data?.tag ?? body?.error?.tag ?? body?.tag,
    body,
    duringStall,
  }
}

const trpc = (
  path: string,
  input: unknown,
  auth: string | null,
  method: "GET" | "POST",
  rig: Rig = pg,
) =>
  answer(
    rig,
    fetch(
      method === "GET"
        ? `${rig.api.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`
        : `${rig.api.url}/trpc/${path}`,
      {
        method,
        headers: {
          "content-type": "application/json",
          ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
        },
        ...(method === "POST" ? { body: JSON.stringify(input) } : {}),
      },
    ),
  )

const expectUnavailable = (reply: Answer) => {
  expect({ status: reply.status, tag: reply.tag, duringStall: reply.duringStall }).toEqual({
    status: 503,
    tag: "Unavailable",
    duringStall: true,
  })
  expect(Number(reply.retryAfter)).toBeGreaterThan(0)
}

/** Every account of the test user named `name`, read straight from the database. */
const accountsNamed = async (name: string) => {
  const page = ok(await trpc("accounts.list", { limit: 200 }, pg.api.key, "GET"))
  return (page.items as Array<{ name: string }>).filter((account) => account.name === name)
}

/**
 * Stalls the dependency now (or, given a trigger, as soon as those bytes pass) and continues it
 * after `stallMs` whatever happens, so a request that hangs fails its assertions instead of the
 * run.
 */
const stalled = (trigger?: Parameters<StallingProxy["stallWhen"]>, { proxy } = pg) => {
  if (trigger === undefined) proxy.stall()
  else proxy.stallWhen(...trigger)
  let timer: NodeJS.Timeout | undefined
  const over = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, stallMs)
  }).then(() => proxy.resume())
  return {
    /** Waits for the stall to end by itself. */
    over: () => over,
    /** Continues the dependency at once. */
    resume: () => {
      clearTimeout(timer)
      proxy.resume()
    },
  }
}

describe("while PostgreSQL stalls", () => {
  it("answers every request 503 Unavailable with Retry-After within the timeout, and 200 once it continues", async () => {
    const account = ok(
      await trpc("accounts.create", { name: "Before", currency: "EUR" }, pg.api.key, "POST"),
    )
    const created = ok(await trpc("exports.create", {}, pg.api.key, "POST"))
    await pg.api.runtime.runPromise(PgExportBuilder.build(created.id as ExportId))
    const unknownKey = `txn_${randomBytes(32).toString("base64url")}`
    const calls = {
      query: () => trpc("accounts.get", { id: account.id }, pg.api.key, "GET"),
      mutation: () =>
        trpc("accounts.create", { name: "During", currency: "EUR" }, pg.api.key, "POST"),
      // A single create, with its key, through the group commit.
      create: () =>
        trpc(
          "transactions.create",
          {
            idempotencyKey: "during-stall",
            accountId: account.id,
            direction: "credit",
            amount: 100,
            currency: "EUR",
            description: "During the stall",
          },
          pg.api.key,
          "POST",
        ),
      unknownKey: () => trpc("accounts.list", {}, unknownKey, "GET"),
      admin: () => trpc("admin.users.create", { name: "During" }, pg.api.adminToken, "POST"),
      download: () =>
        answer(
          pg,
          fetch(`${pg.api.url}/v1/exports/${created.id}/download`, {
            headers: { authorization: `Bearer ${pg.api.key}` },
          }),
        ),
      readiness: () => answer(pg, fetch(`${pg.api.url}/readyz`)),
    }

    const stall = stalled()
    const names = Object.keys(calls) as Array<keyof typeof calls>
    const replies = await Promise.all(names.map((name) => calls[name]()))
    const during = Object.fromEntries(names.map((name, i) => [name, replies[i]])) as Record<
      keyof typeof calls,
      Answer
    >
    // Refusing a call without a key needs no database.
    const noKey = await trpc("accounts.list", {}, null, "GET")
    await stall.over()

    for (const reply of replies) expectUnavailable(reply)
    expect([noKey.status, noKey.tag, noKey.duringStall]).toEqual([401, "Unauthorized", true])
    // A key this process checked before the stall is still known (see PgCredentialCache): what
    // runs out of time is the work, not the check. An unknown key cannot be checked.
    expect(during.unknownKey.body.error.message).toBe(
      "The API key cannot be checked right now; try again",
    )
    for (const keyed of [during.query, during.mutation, during.create]) {
      expect(keyed.body.error.message).toBe("The request took too long; try again")
    }
    expect(during.download.body.error.message).toBe(
      "The export cannot be read right now; try again",
    )
    // The admin token needs no database; its procedure is what ran out of time.
    expect(during.admin.body.error.message).toBe("The request took too long; try again")

    const after = {
      query: await calls.query(),
      mutation: await calls.mutation(),
      create: await calls.create(),
      unknownKey: await calls.unknownKey(),
      admin: await calls.admin(),
      download: await calls.download(),
      readiness: await calls.readiness(),
    }
    expect(ok(after.query).id).toBe(account.id)
    expect(ok(after.mutation).name).toBe("During")
    // Refused during the stall, it may still have committed once the stall ended: its retry with
    // the key is written once either way.
    expect(ok(after.create).description).toBe("During the stall")
    const listed = ok(
      await trpc("transactions.list", { accountId: account.id, limit: 200 }, pg.api.key, "GET"),
    )
    expect(
      (listed.items as Array<{ description: string }>).filter(
        (t) => t.description === "During the stall",
      ),
    ).toHaveLength(1)
    expect([after.unknownKey.status, after.unknownKey.tag]).toEqual([401, "Unauthorized"])
    expect(ok(after.admin).name).toBe("During")
    expect(after.download.status).toBe(200)
    expect(after.download.body).toMatch(/^id,/)
    expect([after.readiness.status, after.readiness.body]).toEqual([200, { status: "ready" }])
    // The mutation refused during the stall never ran: only the one made afterwards exists.
    expect(await accountsNamed("During")).toHaveLength(1)
  })

  it("answers a write cut off before its commit 503; it did not commit, and its retry runs it once", async () => {
    const input = { name: "Cut before commit", currency: "EUR", idempotencyKey: "stall-before" }
    const stall = stalled(["toServer", input.name])
    const cut = await trpc("accounts.create", input, pg.api.key, "POST")
    stall.resume()
    expectUnavailable(cut)
    expect(cut.body.error.message).toBe("The request took too long; try again")

    // The retry waits for the cut-off attempt to end, then finds no first result to replay.
    const retried = ok(await trpc("accounts.create", input, pg.api.key, "POST"))
    expect(retried.replayed).toBeUndefined()
    expect(await accountsNamed(input.name)).toHaveLength(1)
  })

  it("answers a write whose commit landed but whose reply did not 503; its retry replays it", async () => {
    const input = { name: "Cut after commit", currency: "EUR", idempotencyKey: "stall-after" }
    // PostgreSQL committed and says so (`COMMIT`), but the reply never reaches the API in time.
    const stall = stalled(["toClient", "COMMIT"])
    const cut = await trpc("accounts.create", input, pg.api.key, "POST")
    stall.resume()
    expectUnavailable(cut)
    expect(cut.body.error.message).toBe("The request took too long; try again")

    const retried = ok(await trpc("accounts.create", input, pg.api.key, "POST"))
    expect(retried.replayed).toBe(true)
    expect(await accountsNamed(input.name)).toEqual([expect.objectContaining({ id: retried.id })])
  })
})

const redisUrl = testRedisUrl()

describe.skipIf(redisUrl === undefined)(
  redisUrl === undefined
    ? "while Redis stalls (skipped: REDIS_URL is not set)"
    : "while Redis stalls",
  () => {
    let redis: Rig
    let client: Redis
    beforeAll(async () => {
      const { proxy, url } = await proxyFor(redisUrl === undefined ? "" : Redacted.value(redisUrl))
      // Set up as main.ts does; only the limiter's own Redis timeout is far longer than the
      // request timeout, so what bounds the request is the request's deadline.
      client = new Redis(url.toString(), { enableOfflineQueue: false })
      client.on("error", () => {})
      await new Promise((resolve) => client.once("ready", resolve))
      const api = await startTestApi({
        requestTimeoutMs,
        rateLimit: makeRateLimit({
          points: 1000,
          redis: client,
          keyPrefix: uniquePrefix("rl"),
          redisTimeoutMs: 60_000,
        }),
      })
      redis = { api, proxy }
    })
    afterAll(async () => {
      redis.proxy.resume()
      client.disconnect()
      await redis.api.close()
      await redis.proxy.close()
    })

    it("answers 503 Unavailable with Retry-After by the deadline while the rate limit cannot be counted, and 200 after", async () => {
      const download = () =>
        answer(
          redis,
          fetch(`${redis.api.url}/v1/exports/exp_00000000000000000000000000/download`, {
            headers: { authorization: `Bearer ${redis.api.key}` },
          }),
        )
      const stall = stalled(undefined, redis)
      const during = [
        await trpc("accounts.list", {}, redis.api.key, "GET", redis),
        await download(),
      ]
      stall.resume()

      for (const reply of during) expectUnavailable(reply)
      expect(during[0]?.body.error.message).toBe("The request took too long; try again")
      expect(ok(await trpc("accounts.list", {}, redis.api.key, "GET", redis)).items).toEqual([])
      expect((await download()).status).toBe(404)
    })
  },
)
