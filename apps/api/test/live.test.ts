import { once } from "node:events"
import { startStallingProxy, testDatabaseUrl } from "@txn/testing"
import * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ApiProcess, startApiProcess } from "./apiProcess.ts"
import { type Json, startTestApi, type TestApi } from "./harness.ts"
import { openSse, type SseEvent } from "./sse.ts"

let api: TestApi
let other: ApiProcess
beforeAll(async () => {
  api = await startTestApi({ liveMaxQueued: 5 })
  // A second API process, started as `npm start` starts it, on the same database.
  other = await startApiProcess({ TXN_LIVE_POLL_MS: "20" })
  await other.waitFor("api listening")
})
afterAll(async () => {
  if (other.proc.exitCode === null) {
    other.proc.kill("SIGTERM")
    await once(other.proc, "exit")
  }
  await api.close()
})

const liveUrl = (base: string, input: Record<string, unknown> = {}) =>
  `${base}/trpc/transactions.live?input=${encodeURIComponent(JSON.stringify(input))}`

const auth = (key: string) => ({ authorization: `Bearer ${key}` })

/** A new account of the test user (or of `key`'s user) through the other API process. */
const newAccount = async (key = api.key) =>
  (await writeOnOther(key, "accounts.create", {
    name: "Live",
    currency: "USD",
    allowNegative: true,
  })) as { id: string }

const writeOnOther = async (key: string, path: string, input: unknown) => {
  const response = await fetch(`http://127.0.0.1:${other.port}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(key) },
    body: JSON.stringify(input),
  })
  const body = (await response.json()) as Json
  expect([path, response.status]).toEqual([path, 200])
  return body.result.data as Json
}

const credit = (accountId: string, amount: number, key = api.key) =>
  writeOnOther(key, "transactions.create", {
    accountId,
    direction: "credit",
    amount,
    currency: "USD",
  }) as Promise<{ id: string }>

const changeOf = (event: SseEvent) =>
  JSON.parse(event.data) as { transactionId: string; accountId: string; kind: string }

describe("transactions.live over tRPC's SSE", () => {
  it("delivers a write made through another API process, in order, and nothing of another user", async () => {
    const account = await newAccount()
    const stranger = await api.newUser()
    const strangerAccount = await newAccount(stranger.key)
    const stream = await openSse(liveUrl(api.url), auth(api.key))
    expect(stream.response.status).toBe(200)
    expect(stream.response.headers.get("content-type")).toContain("text/event-stream")
    expect((await stream.take(1, "connected")).length).toBe(1)

    await credit(strangerAccount.id, 1, stranger.key)
    const written = [await credit(account.id, 10), await credit(account.id, 20)]
    const events = await stream.take(2)
    stream.close()
    expect(events.map((event) => changeOf(event).transactionId)).toEqual(written.map((t) => t.id))
    expect(events.map((event) => changeOf(event).kind)).toEqual(["created", "created"])
    expect(events.every((event) => event.id !== undefined && event.id.length > 0)).toBe(true)
    expect(changeOf(events[0]!).accountId).toBe(account.id)
  })

  it("resumes after the last event id with every missed event, exactly once, in order", async () => {
    const account = await newAccount()
    const first = await openSse(liveUrl(api.url, { accountId: account.id }), auth(api.key))
    await first.take(1, "connected")
    const before = [await credit(account.id, 1), await credit(account.id, 2)]
    const seen = await first.take(2)
    expect(seen.map((event) => changeOf(event).transactionId)).toEqual(before.map((t) => t.id))
    first.close()

    // Written while nobody listens: more than the subscriber's in-memory queue holds (5).
    const missed: Array<{ id: string }> = []
    for (let i = 0; i < 8; i++) missed.push(await credit(account.id, 100 + i))
    // As EventSource resumes: the last id in Last-Event-ID.
    const resumed = await openSse(liveUrl(api.url, { accountId: account.id }), {
      ...auth(api.key),
      "last-event-id": seen[1]!.id!,
    })
    const after = await resumed.take(8)
    const later = await credit(account.id, 999)
    const next = await resumed.take(1)
    resumed.close()
    expect(after.map((event) => changeOf(event).transactionId)).toEqual(missed.map((t) => t.id))
    expect(next.map((event) => changeOf(event).transactionId)).toEqual([later.id])
  })

  it("keeps every event for a subscriber that reads slower than they come", async () => {
    const account = await newAccount()
    const stream = await openSse(liveUrl(api.url, { accountId: account.id }), auth(api.key))
    await stream.take(1, "connected")
    // Twelve writes in one batch: more at once than the subscriber's queue holds (5), so it
    // reads the rest from the database.
    const { transactions } = (await writeOnOther(api.key, "transactions.createMany", {
      transactions: Array.from({ length: 12 }, (_, i) => ({
        accountId: account.id,
        direction: "credit",
        amount: i + 1,
        currency: "USD",
      })),
    })) as { transactions: Array<{ id: string }> }
    const events = await stream.take(12)
    stream.close()
    expect(events.map((event) => changeOf(event).transactionId)).toEqual(
      transactions.map((t) => t.id),
    )
    expect(new Set(events.map((event) => event.id)).size).toBe(12)
  })

  it("shows one account's changes when asked, and answers another user's account NotFound", async () => {
    const [mine, alsoMine] = [await newAccount(), await newAccount()]
    const stream = await openSse(liveUrl(api.url, { accountId: mine.id }), auth(api.key))
    await stream.take(1, "connected")
    await credit(alsoMine.id, 5)
    const wanted = await credit(mine.id, 6)
    const events = await stream.take(1)
    stream.close()
    expect(events.map((event) => changeOf(event).transactionId)).toEqual([wanted.id])

    const stranger = await api.newUser()
    const refused = await openSse(liveUrl(api.url, { accountId: mine.id }), auth(stranger.key))
    const [error] = await refused.take(1, "serialized-error")
    refused.close()
    expect(JSON.parse(error!.data).data).toMatchObject({ tag: "NotFound" })
  })

  it("refuses bad input naming the field, and a missing key, as typed errors", async () => {
    // tRPC opens the stream, then sends the error as its one event: the client throws it typed.
    const bad = await openSse(liveUrl(api.url, { accountId: "acc_x", lastEventId: "nope" }), {
      ...auth(api.key),
    })
    const [error] = await bad.take(1, "serialized-error")
    bad.close()
    const data = JSON.parse(error!.data).data as Json
    expect(data).toMatchObject({ tag: "ValidationError", httpStatus: 400 })
    expect(data.issues.map((issue: Json) => issue.path.join("."))).toEqual([
      "accountId",
      "lastEventId",
    ])
    const anonymous = await openSse(liveUrl(api.url))
    const [refused] = await anonymous.take(1, "serialized-error")
    anonymous.close()
    expect(JSON.parse(refused!.data).data).toMatchObject({ tag: "Unauthorized", httpStatus: 401 })
  })

  it("lets go of a subscriber whose client left", async () => {
    const stream = await openSse(liveUrl(api.url), auth(api.key))
    await stream.take(1, "connected")
    expect(api.live.size).toBeGreaterThan(0)
    stream.close()
    const deadline = Date.now() + 5_000
    while (api.live.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(api.live.size).toBe(0)
  })
})

const restLive = (base: string, query = "") => `${base}/v1/transactions/live${query}`

describe("GET /v1/transactions/live (REST, server-sent events)", () => {
  it("streams changes with ids, and resumes after Last-Event-ID exactly once, in order", async () => {
    const account = await newAccount()
    const stream = await openSse(restLive(api.url, `?accountId=${account.id}`), auth(api.key))
    expect(stream.response.status).toBe(200)
    expect(stream.response.headers.get("content-type")).toContain("text/event-stream")
    const first = [await credit(account.id, 1), await credit(account.id, 2)]
    const seen = await stream.take(2)
    stream.close()
    expect(seen.map((event) => changeOf(event).transactionId)).toEqual(first.map((t) => t.id))

    const missed = [await credit(account.id, 3), await credit(account.id, 4)]
    const resumed = await openSse(restLive(api.url, `?accountId=${account.id}`), {
      ...auth(api.key),
      "last-event-id": seen[0]!.id!,
    })
    const again = await resumed.take(3)
    resumed.close()
    expect(again.map((event) => changeOf(event).transactionId)).toEqual(
      [first[1]!, ...missed].map((t) => t.id),
    )
  })

  it("refuses as every REST operation does: 404 for another user's account, 400 naming a bad parameter, 403 without the read scope, 405 for POST", async () => {
    const stranger = await api.newUser()
    const theirs = await newAccount(stranger.key)
    const foreign = await fetch(restLive(api.url, `?accountId=${theirs.id}`), {
      headers: auth(api.key),
    })
    expect(foreign.status).toBe(404)
    expect(((await foreign.json()) as Json).error.tag).toBe("NotFound")

    const bad = await fetch(restLive(api.url, "?accountId=acc_x&limit=3"), {
      headers: auth(api.key),
    })
    const body = (await bad.json()) as Json
    expect(bad.status).toBe(400)
    expect(body.error.issues.map((issue: Json) => issue.path.join(".")).sort()).toEqual([
      "accountId",
      "limit",
    ])

    const writeOnly = await api.newUser(["write"])
    const forbidden = await fetch(restLive(api.url), { headers: auth(writeOnly.key) })
    expect(forbidden.status).toBe(403)
    await forbidden.body?.cancel()

    const posted = await fetch(restLive(api.url), { method: "POST", headers: auth(api.key) })
    expect(posted.status).toBe(405)
    expect(posted.headers.get("allow")).toBe("GET")
    await posted.body?.cancel()
  })
})

describe("live streams of client tokens", () => {
  const mint = async (body: Record<string, unknown>) => {
    const minted = await api.rest("POST", "/v1/tokens", { body })
    expect(minted.status).toBe(201)
    return minted.body as { token: string; expiresAt: string }
  }

  it("show only the token's accounts", async () => {
    const [reached, other] = [await newAccount(), await newAccount()]
    const { token } = await mint({ scopes: ["read"], accountIds: [reached.id], ttlSeconds: 60 })
    const trpc = await openSse(liveUrl(api.url), auth(token))
    await trpc.take(1, "connected")
    const rest = await openSse(restLive(api.url), auth(token))
    await credit(other.id, 1)
    const wanted = await credit(reached.id, 2)
    const [viaTrpc, viaRest] = [await trpc.take(1), await rest.take(1)]
    trpc.close()
    rest.close()
    expect(viaTrpc.map((event) => changeOf(event).transactionId)).toEqual([wanted.id])
    expect(viaRest.map((event) => changeOf(event).transactionId)).toEqual([wanted.id])
  })

  it("end when the token expires, telling the client why", async () => {
    // Long enough for both streams to open first on a busy machine, which the test checks.
    const { token } = await mint({ scopes: ["read"], ttlSeconds: 3 })
    const trpc = await openSse(liveUrl(api.url), auth(token))
    const rest = await openSse(restLive(api.url), auth(token))
    expect(await trpc.take(1, "connected")).toHaveLength(1)
    expect(rest.response.status).toBe(200)
    const [trpcEnd] = await trpc.take(1, "serialized-error", 10_000)
    const [restEnd] = await rest.take(1, "error", 10_000)
    expect(JSON.parse(trpcEnd!.data).data).toMatchObject({ tag: "Unauthorized" })
    expect(JSON.parse(restEnd!.data).error).toMatchObject({ tag: "Unauthorized" })
    // The server closed both streams after saying so.
    expect(await rest.next()).toBeUndefined()
    trpc.close()
  })
})

const redisUrl = process.env.REDIS_URL

describe.skipIf(redisUrl === undefined)(
  `with Redis, writes announced to every API process${redisUrl === undefined ? " (skipped: REDIS_URL is unset)" : ""}`,
  () => {
    let polling: ApiProcess
    let writing: ApiProcess
    beforeAll(async () => {
      const shared = { REDIS_URL: redisUrl!, TXN_QUEUE_PREFIX: `live${Date.now().toString(36)}` }
      // A process that reads the feed only every 10 s on its own: what reaches its subscriber
      // sooner was announced.
      polling = await startApiProcess({ ...shared, TXN_LIVE_POLL_MS: "10000" })
      writing = await startApiProcess(shared)
      await Promise.all([polling.waitFor("api listening"), writing.waitFor("api listening")])
    })
    afterAll(async () => {
      for (const proc of [polling, writing]) {
        if (proc.proc.exitCode === null) {
          proc.proc.kill("SIGTERM")
          await once(proc.proc, "exit")
        }
      }
    })

    it("reaches a subscriber on another process before that process's next poll", async () => {
      const account = await newAccount()
      const stream = await openSse(
        liveUrl(`http://127.0.0.1:${polling.port}`, { accountId: account.id }),
        auth(api.key),
      )
      await stream.take(1, "connected")
      // Past the process's first read of the feed, which follows a new subscriber at once.
      await new Promise((resolve) => setTimeout(resolve, 500))
      const response = await fetch(`http://127.0.0.1:${writing.port}/trpc/transactions.create`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth(api.key) },
        body: JSON.stringify({
          accountId: account.id,
          direction: "credit",
          amount: 7,
          currency: "USD",
        }),
      })
      const created = ((await response.json()) as Json).result.data as { id: string }
      // Before the 10 s poll would find it. Not at once: the feed shows a change only once every
      // older database transaction has ended, and other tests' may run for seconds.
      const events = await stream.take(1, "message", 8_000)
      stream.close()
      expect(events.map((event) => changeOf(event).transactionId)).toEqual([created.id])
    })
  },
)

describe("while PostgreSQL stalls", () => {
  it("ends a stream that cannot read its missed changes with Unavailable, and delivers what was written meanwhile once PostgreSQL answers", async () => {
    // An API whose every connection to PostgreSQL goes through a proxy the test stalls; the
    // writes go through the other process, straight to PostgreSQL.
    const target = new URL(Redacted.value(testDatabaseUrl()))
    const proxy = await startStallingProxy({
      host: target.hostname,
      port: Number(target.port || 5432),
    })
    const proxied = new URL(target)
    proxied.hostname = "127.0.0.1"
    proxied.port = String(proxy.port)
    const stalling = await startTestApi({
      databaseUrl: Redacted.make(proxied.toString()),
      requestTimeoutMs: 1000,
    })
    try {
      const account = await newAccount()
      const live = await openSse(liveUrl(stalling.url, { accountId: account.id }), auth(api.key))
      await live.take(1, "connected")
      const first = await credit(account.id, 1)
      const [seen] = await live.take(1)
      expect(changeOf(seen!).transactionId).toBe(first.id)

      proxy.stall()
      const during = await credit(account.id, 2)
      // Resuming needs the database (no accountId: the stream itself reads it, not the request's
      // check of the account); it answers within the read timeout (1 s), typed.
      const resumed = await openSse(liveUrl(stalling.url), {
        ...auth(api.key),
        "last-event-id": seen!.id!,
      })
      const [refused] = await resumed.take(1, "serialized-error", 10_000)
      resumed.close()
      expect(JSON.parse(refused!.data).data).toMatchObject({ tag: "Unavailable", httpStatus: 503 })

      proxy.resume()
      const [after] = await live.take(1, "message", 15_000)
      live.close()
      expect(changeOf(after!).transactionId).toBe(during.id)
    } finally {
      proxy.resume()
      await stalling.close()
      await proxy.close()
    }
  })
})
