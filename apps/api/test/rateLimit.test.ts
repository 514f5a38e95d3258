import { randomUUID } from "node:crypto"
import { once } from "node:events"
import { request } from "node:http"
import { type AddressInfo, createServer, connect as netConnect, type Socket } from "node:net"
import { Access, type UserId } from "@txn/domain"
import { eventually, testRedisUrl, uniquePrefix } from "@txn/testing"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeRateLimit } from "../src/rateLimit.ts"
import { type Json, rawRequest, startTestApi, type TestApi } from "./harness.ts"

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: Json
}

/**
 * A tRPC query sent from a chosen loopback address (all of 127.0.0.0/8 reaches the server), so
 * tests can act as different clients.
 */
const queryFrom = (
  api: TestApi,
  localAddress: string,
  path: string,
  auth: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const target = new URL(`${api.url}/trpc/${path}?input=${encodeURIComponent("{}")}`)
    const req = request(
      target,
      {
        localAddress,
        headers: { ...headers, ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }) },
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          text += chunk
        })
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        )
      },
    )
    req.on("error", reject)
    req.end()
  })

const header = (response: { headers: Headers }, name: string) => response.headers.get(name)

/** A batch of calls to procedures that do not exist, sent as GET from `localAddress`. */
const unknownBatch = (api: TestApi, localAddress: string, calls: number, auth?: string) =>
  rawRequest(
    `${api.url}/trpc/${Array.from({ length: calls }, (_, i) => `no.such${i}`).join(",")}?batch=1`,
    {
      localAddress,
      headers: auth === undefined ? {} : { authorization: `Bearer ${auth}` },
    },
  )

/** A second API key of an existing user, with its own id. */
const secondKey = (api: TestApi, userId: UserId) =>
  api.runtime
    .runPromise(
      Access.use((access) =>
        access.createApiKey({ userId, name: "second", scopes: ["read", "write"] }),
      ),
    )
    .then(({ secret }) => secret)

/** Seconds as the headers carry them: a whole number from 1 to the 60 s window. */
const expectWholeSeconds = (value: string | null) => {
  expect(value).toMatch(/^[0-9]+$/)
  expect(Number(value)).toBeGreaterThanOrEqual(1)
  expect(Number(value)).toBeLessThanOrEqual(60)
}

const listAccounts = (api: TestApi, key: string) => api.as(key).query("accounts.list", {})

const expectRateLimited = (response: { status: number; headers: Headers; body: Json }) => {
  expect(response.status).toBe(429)
  expect(response.body.error.data.tag).toBe("RateLimited")
  const retryAfter = header(response, "retry-after")
  expectWholeSeconds(retryAfter)
  expect(response.body.error.data.details).toEqual({ retryAfterSeconds: Number(retryAfter) })
  expect(header(response, "ratelimit-limit")).toBe("3")
  expect(header(response, "ratelimit-remaining")).toBe("0")
  expectWholeSeconds(header(response, "ratelimit-reset"))
}

describe("rate limit in this process: 3 calls per minute", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi({ rateLimit: makeRateLimit({ points: 3 }) })
  })
  afterAll(() => api.close())

  it("counts a key's calls down in RateLimit-* headers and refuses the 4th with 429 and Retry-After", async () => {
    const { key } = await api.newUser()
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await listAccounts(api, key))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(answers.map((a) => header(a, "ratelimit-remaining"))).toEqual(["2", "1", "0", "0"])
    for (const answer of answers.slice(0, 3)) {
      expect(header(answer, "ratelimit-limit")).toBe("3")
      expectWholeSeconds(header(answer, "ratelimit-reset"))
      expect(header(answer, "retry-after")).toBeNull()
    }
    expectRateLimited(answers[3]!)
    expect(answers[3]!.body.error.message).toContain("3 requests per minute")
  })

  it("keeps a budget per API key: one user's exhausted key does not limit another's", async () => {
    const first = await api.newUser()
    const second = await api.newUser()
    for (let i = 0; i < 3; i++) expect((await listAccounts(api, first.key)).status).toBe(200)
    expectRateLimited(await listAccounts(api, first.key))

    const other = await listAccounts(api, second.key)
    expect(other.status).toBe(200)
    expect(header(other, "ratelimit-remaining")).toBe("2")
    // Refused calls count too: the first key stays refused.
    expectRateLimited(await listAccounts(api, first.key))
  })

  it("limits calls without a valid key per client address, answering 429 rather than 401 once over", async () => {
    const { key } = await api.newUser()
    const wrongKey = `txn_${"A".repeat(43)}`
    const guesses = [
      await queryFrom(api, "127.0.0.2", "accounts.list", undefined),
      await queryFrom(api, "127.0.0.2", "accounts.list", wrongKey),
      await queryFrom(api, "127.0.0.2", "accounts.list", "not-even-a-key"),
    ]
    expect(guesses.map((g) => g.status)).toEqual([401, 401, 401])
    expect(guesses.map((g) => g.headers["ratelimit-remaining"])).toEqual(["2", "1", "0"])

    for (const auth of [undefined, wrongKey]) {
      const refused = await queryFrom(api, "127.0.0.2", "accounts.list", auth)
      expect(refused.status).toBe(429)
      expect(refused.body.error.data.tag).toBe("RateLimited")
      expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1)
    }

    // Another address has its own budget, and a valid key is counted by key, not by address.
    const elsewhere = await queryFrom(api, "127.0.0.3", "accounts.list", undefined)
    expect(elsewhere.status).toBe(401)
    expect(elsewhere.headers["ratelimit-remaining"]).toBe("2")
    const withKey = await queryFrom(api, "127.0.0.2", "accounts.list", key)
    expect(withKey.status).toBe(200)
    expect(withKey.headers["ratelimit-remaining"]).toBe("2")
  })

  it("counts every call of a batched HTTP request", async () => {
    const { key } = await api.newUser()
    const paths = Array.from({ length: 4 }, () => "accounts.list").join(",")
    const response = await api.call(
      `${paths}?batch=1`,
      { 0: {}, 1: {}, 2: {}, 3: {} },
      { method: "POST", auth: key },
    )
    const items = response.body as Array<Json>
    expect(items).toHaveLength(4)
    expect(items.slice(0, 3).every((item) => item.result !== undefined)).toBe(true)
    expect(items[3].error.data).toMatchObject({ tag: "RateLimited", httpStatus: 429 })
    expect(items[3].error.data.details.retryAfterSeconds).toBeGreaterThanOrEqual(1)
    expectRateLimited(await listAccounts(api, key))
  })

  it("refuses a whole batch with one 429 once the budget is spent, running none of its calls", async () => {
    const { userId, key } = await api.newUser()
    const reader = await secondKey(api, userId)
    for (let i = 0; i < 3; i++) expect((await listAccounts(api, key)).status).toBe(200)
    const name = `refused ${randomUUID()}`
    const refused = await api.call(
      "accounts.create,accounts.create?batch=1",
      { 0: { name, currency: "USD" }, 1: { name, currency: "USD" } },
      { auth: key },
    )
    expectRateLimited(refused)
    const stored = await listAccounts(api, reader)
    expect(stored.body.result.data.items).toEqual([])
  })

  it("counts a batch of unknown procedures without a key against the address, before resolving them", async () => {
    const first = await unknownBatch(api, "127.0.0.4", 2)
    expect(first.status).toBe(404)
    expect((first.body as Array<Json>).map((item) => item.error.data.tag)).toEqual([
      "NotFound",
      "NotFound",
    ])
    expect(first.headers["ratelimit-remaining"]).toBe("1")
    expect((await unknownBatch(api, "127.0.0.4", 1)).headers["ratelimit-remaining"]).toBe("0")

    // The budget is spent: the next request is refused before its procedures are looked up.
    const refused = await unknownBatch(api, "127.0.0.4", 2)
    expect(refused.status).toBe(429)
    expect(refused.body.error.data).toMatchObject({ tag: "RateLimited", httpStatus: 429 })
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1)
    const guess = await queryFrom(api, "127.0.0.4", "accounts.list", undefined)
    expect(guess.status).toBe(429)
  })

  it("counts a batch of unknown procedures with a valid key against the key, not the address", async () => {
    const { key } = await api.newUser()
    const batch = await unknownBatch(api, "127.0.0.5", 3, key)
    expect(batch.status).toBe(404)
    expect(batch.headers["ratelimit-remaining"]).toBe("0")
    const refused = await queryFrom(api, "127.0.0.5", "accounts.list", key)
    expect(refused.status).toBe(429)
    expect(refused.body.error.data.tag).toBe("RateLimited")
    // The address's own budget is untouched.
    const anonymous = await queryFrom(api, "127.0.0.5", "accounts.list", undefined)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers["ratelimit-remaining"]).toBe("2")
  })

  it("keeps a budget per key, not per user: a user's second key is not refused when the first is", async () => {
    const { userId, key } = await api.newUser()
    const other = await secondKey(api, userId)
    for (let i = 0; i < 3; i++) expect((await listAccounts(api, key)).status).toBe(200)
    expectRateLimited(await listAccounts(api, key))
    const fresh = await listAccounts(api, other)
    expect(fresh.status).toBe(200)
    expect(header(fresh, "ratelimit-remaining")).toBe("2")
  })
})

describe("the per-address limit behind a load balancer (TXN_TRUSTED_PROXIES=127.0.0.9)", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi({
      rateLimit: makeRateLimit({ points: 3 }),
      trustedProxies: ["127.0.0.9"],
    })
  })
  afterAll(() => api.close())

  const viaProxy = (forwardedFor: string) =>
    queryFrom(api, "127.0.0.9", "accounts.list", undefined, { "x-forwarded-for": forwardedFor })

  it("counts each client the proxy names, not the proxy", async () => {
    for (let i = 0; i < 3; i++) expect((await viaProxy("198.51.100.1")).status).toBe(401)
    expect((await viaProxy("198.51.100.1")).status).toBe(429)
    // Another client behind the same proxy has its own budget.
    expect((await viaProxy("198.51.100.2")).status).toBe(401)
  })

  it("believes only the hops it trusts: what a client wrote before the proxy's entry is ignored", async () => {
    // The proxy appends the address it saw; the client's own claim comes before it.
    const spoofed = await viaProxy("203.0.113.77, 198.51.100.1")
    expect(spoofed.status).toBe(429)
  })

  it("ignores X-Forwarded-For from anyone else: a client cannot pick its own address", async () => {
    const direct = (claim: string) =>
      queryFrom(api, "127.0.0.10", "accounts.list", undefined, { "x-forwarded-for": claim })
    for (const claim of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
      expect((await direct(claim)).status).toBe(401)
    }
    expect((await direct("192.0.2.4")).status).toBe(429)
  })
})

const redisUrl = testRedisUrl()

/** A TCP hop in front of Redis that a test can cut (connections refused) or stall (bytes dropped). */
const startRedisProxy = async (target: URL) => {
  const sockets = new Set<Socket>()
  let stalled = false
  const server = createServer((client) => {
    const upstream = netConnect(Number(target.port || 6379), target.hostname)
    sockets.add(client).add(upstream)
    const forward = (from: Socket, to: Socket) =>
      from.on("data", (chunk: Buffer) => {
        if (!stalled) to.write(chunk)
      })
    forward(client, upstream)
    forward(upstream, client)
    for (const socket of [client, upstream]) {
      socket.on("error", () => {})
      socket.on("close", () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(socket)
      })
    }
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return {
    port: (server.address() as AddressInfo).port,
    /** Redis stops answering while the connections stay open, like a network partition. */
    stall: () => {
      stalled = true
    },
    /** Redis goes away: open connections drop and new ones are refused. */
    cut: async () => {
      const closed = once(server, "close")
      server.close()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

describe.skipIf(redisUrl === undefined)(
  redisUrl === undefined
    ? "rate limit in Redis (skipped: REDIS_URL is not set)"
    : "rate limit in Redis: 3 calls per minute",
  () => {
    const url = redisUrl === undefined ? "" : Redacted.value(redisUrl)
    const clients: Array<Redis> = []
    const apis: Array<TestApi> = []
    /** Set up as main.ts does: no offline queue, so commands fail at once while disconnected. */
    const redisClient = (port?: number) => {
      const client =
        port === undefined
          ? new Redis(url, { enableOfflineQueue: false })
          : new Redis({ host: "127.0.0.1", port, enableOfflineQueue: false })
      // Connection errors are expected here; the limiter's fallback is what is under test.
      client.on("error", () => {})
      clients.push(client)
      return client
    }
    const apiOn = async (redis: Redis, keyPrefix: string) => {
      const api = await startTestApi({ rateLimit: makeRateLimit({ points: 3, redis, keyPrefix }) })
      apis.push(api)
      return api
    }
    afterAll(async () => {
      await Promise.all(apis.map((api) => api.close()))
      for (const client of clients) client.disconnect()
    })

    it("shares one budget per key between two API instances using the same Redis", async () => {
      const keyPrefix = uniquePrefix("rl")
      const redisA = redisClient()
      const redisB = redisClient()
      await Promise.all([once(redisA, "ready"), once(redisB, "ready")])
      const [first, second] = [await apiOn(redisA, keyPrefix), await apiOn(redisB, keyPrefix)]
      const { key, keyId } = await first.newUser()

      const answers = [
        await listAccounts(first, key),
        await listAccounts(second, key),
        await listAccounts(first, key),
        await listAccounts(second, key),
        await listAccounts(first, key),
      ]
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429])
      expect(answers.map((a) => header(a, "ratelimit-remaining"))).toEqual([
        "2",
        "1",
        "0",
        "0",
        "0",
      ])
      expectRateLimited(answers[3]!)
      // Counted in Redis, where every replica sees it.
      expect(await redisA.get(`${keyPrefix}:key:${keyId}`)).toBe("5")
      expect(await redisA.pttl(`${keyPrefix}:key:${keyId}`)).toBeGreaterThan(0)
    })

    it("keeps a budget per key, not per user: a user's second key is not refused when the first is", async () => {
      const redis = redisClient()
      await once(redis, "ready")
      const api = await apiOn(redis, uniquePrefix("rl"))
      const { userId, key } = await api.newUser()
      const other = await secondKey(api, userId)
      for (let i = 0; i < 3; i++) expect((await listAccounts(api, key)).status).toBe(200)
      expectRateLimited(await listAccounts(api, key))
      const fresh = await listAccounts(api, other)
      expect(fresh.status).toBe(200)
      expect(header(fresh, "ratelimit-remaining")).toBe("2")
    })

    it("counts every call of a batch of unknown procedures in Redis", async () => {
      const keyPrefix = uniquePrefix("rl")
      const redis = redisClient()
      await once(redis, "ready")
      const api = await apiOn(redis, keyPrefix)
      const { key, keyId } = await api.newUser()
      expect((await unknownBatch(api, "127.0.0.1", 3, key)).headers["ratelimit-remaining"]).toBe(
        "0",
      )
      expect(await redis.get(`${keyPrefix}:key:${keyId}`)).toBe("3")
      expectRateLimited(await listAccounts(api, key))
    })

    it("still answers, and still limits, when Redis goes away mid-test", async () => {
      const proxy = await startRedisProxy(new URL(url))
      const redis = redisClient(proxy.port)
      await once(redis, "ready")
      const api = await apiOn(redis, uniquePrefix("rl"))
      const { key } = await api.newUser()
      expect((await listAccounts(api, key)).status).toBe(200)

      await proxy.cut()
      await eventually(async () => (redis.status === "ready" ? undefined : true), {
        what: "the Redis client to notice",
      })
      const answers = []
      for (let i = 0; i < 5; i++) answers.push(await listAccounts(api, key))
      // The in-memory insurance limiter takes over with a fresh budget of its own.
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429])
      expectRateLimited(answers[3]!)
    })

    it("still answers when Redis stops responding without closing the connection", async () => {
      const proxy = await startRedisProxy(new URL(url))
      const redis = redisClient(proxy.port)
      await once(redis, "ready")
      const api = await apiOn(redis, uniquePrefix("rl"))
      const { key } = await api.newUser()
      expect((await listAccounts(api, key)).status).toBe(200)

      proxy.stall()
      const answers = []
      for (let i = 0; i < 4; i++) answers.push(await listAccounts(api, key))
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
      await proxy.cut()
    })
  },
)
