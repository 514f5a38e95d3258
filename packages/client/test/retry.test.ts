import { once } from "node:events"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestApi, type TestApi } from "../../../apps/api/test/harness.ts"
import { createTxnClient, errorTag, type TxnClientOptions } from "../src/index.ts"
import { rejectionOf } from "./rejectionOf.ts"

/** What the flaky front does with one request: pass it to the API, or fail it in some way. */
type Step =
  | "proxy"
  /** Closes the connection before answering: a network failure. */
  | "drop"
  /** Passes the request to the API (which acts on it), then closes the connection unanswered. */
  | "proxy-then-drop"
  | { readonly status: number; readonly retryAfter?: string; readonly body?: string }

interface Seen {
  readonly path: string
  readonly body: string
  readonly authorization: string | undefined
  readonly at: number
}

/**
 * An HTTP front on 127.0.0.1 before the real API that fails requests as a test plans them
 * (`steps`, one per request, then "proxy"), recording each request it gets.
 */
const startFlakyFront = async (api: TestApi) => {
  const steps: Array<Step> = []
  const seen: Array<Seen> = []
  const forward = async (request: IncomingMessage, body: string) => {
    const headers = new Headers()
    for (const name of ["content-type", "authorization"]) {
      const value = request.headers[name]
      if (typeof value === "string") headers.set(name, value)
    }
    return fetch(`${api.url}${request.url}`, {
      method: request.method ?? "GET",
      headers,
      ...(request.method === "POST" ? { body } : {}),
    })
  }
  const server: Server = createServer(
    async (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Array<Buffer> = []
      for await (const chunk of request) chunks.push(chunk as Buffer)
      const body = Buffer.concat(chunks).toString("utf8")
      seen.push({
        path: new URL(request.url ?? "/", "http://x").pathname,
        body,
        authorization: request.headers.authorization,
        at: Date.now(),
      })
      const step = steps.shift() ?? "proxy"
      if (step === "drop") {
        request.socket.destroy()
        return
      }
      if (typeof step === "object") {
        response.writeHead(step.status, {
          "content-type": step.body?.startsWith("{") ? "application/json" : "text/plain",
          ...(step.retryAfter === undefined ? {} : { "retry-after": step.retryAfter }),
        })
        response.end(step.body ?? "Service Unavailable")
        return
      }
      const answer = await forward(request, body)
      const text = await answer.text()
      if (step === "proxy-then-drop") {
        request.socket.destroy()
        return
      }
      response.writeHead(answer.status, { "content-type": "application/json" })
      response.end(text)
    },
  )
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    steps,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A whole-request refusal in tRPC's shape, as the API sends one for a batch it will not run. */
const refusal = (tag: "RateLimited" | "Unavailable", status: number, details: object) =>
  JSON.stringify({
    error: {
      message: tag,
      code: status === 429 ? -32029 : -32603,
      data: {
        code: tag === "RateLimited" ? "TOO_MANY_REQUESTS" : "SERVICE_UNAVAILABLE",
        httpStatus: status,
        tag,
        details,
      },
    },
  })

let api: TestApi
let front: Awaited<ReturnType<typeof startFlakyFront>>
let accountId: string
beforeAll(async () => {
  api = await startTestApi()
  front = await startFlakyFront(api)
  const direct = createTxnClient({ url: api.url, apiKey: api.key })
  accountId = (await direct.accounts.create.mutate({ name: "Retries", currency: "USD" })).id
})
afterAll(async () => {
  await front.close()
  await api.close()
})

/** A client through the flaky front, quick to back off, one HTTP request per call. */
const clientVia = (options: Partial<TxnClientOptions> = {}) => {
  front.steps.length = 0
  front.seen.length = 0
  return createTxnClient({
    url: front.url,
    apiKey: api.key,
    batch: false,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    ...options,
  })
}

const credit = () => ({
  accountId,
  direction: "credit" as const,
  amount: 100,
  currency: "USD",
})

describe("retries", () => {
  it("tries a query again after network failures, up to an answer", async () => {
    const client = clientVia()
    front.steps.push("drop", "drop")
    const page = await client.accounts.list.query({})
    expect(page.items.map((account) => account.id)).toContain(accountId)
    expect(front.seen.map((request) => request.path)).toEqual(Array(3).fill("/trpc/accounts.list"))
  })

  it("waits as long as Retry-After says on a 429, then tries again", async () => {
    const client = clientVia()
    front.steps.push({
      status: 429,
      retryAfter: "1",
      body: refusal("RateLimited", 429, { retryAfterSeconds: 0 }),
    })
    await client.accounts.get.query({ id: accountId })
    expect(front.seen).toHaveLength(2)
    const [first, second] = front.seen
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990)
  })

  it("tries again after a 503, even one without a tRPC body (a proxy's)", async () => {
    const client = clientVia()
    front.steps.push({ status: 503, retryAfter: "1" }, { status: 503 })
    await client.accounts.get.query({ id: accountId })
    expect(front.seen).toHaveLength(3)
    const [first, second] = front.seen
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990)

    const unretried = clientVia({ retry: false })
    front.steps.push({ status: 503 })
    const error = await rejectionOf(unretried.accounts.get.query({ id: accountId }))
    expect(errorTag(error)).toBe("Unavailable")
  })

  it("gives up after the configured number of retries, with the last answer's error", async () => {
    const client = clientVia({ retry: { retries: 2, baseDelayMs: 1 } })
    front.steps.push(
      ...Array.from({ length: 5 }, () => ({
        status: 503,
        retryAfter: "0",
        body: refusal("Unavailable", 503, {}),
      })),
    )
    const error = await rejectionOf(client.accounts.get.query({ id: accountId }))
    expect(errorTag(error)).toBe("Unavailable")
    expect(front.seen).toHaveLength(3)
  })

  it("does not wait for a Retry-After longer than maxRetryAfterMs", async () => {
    const client = clientVia({ retry: { maxRetryAfterMs: 1_000 } })
    front.steps.push({
      status: 429,
      retryAfter: "120",
      body: refusal("RateLimited", 429, { retryAfterSeconds: 120 }),
    })
    expect(errorTag(await rejectionOf(client.accounts.get.query({ id: accountId })))).toBe(
      "RateLimited",
    )
    expect(front.seen).toHaveLength(1)
  })

  it("does not retry errors that another try cannot fix", async () => {
    const client = clientVia()
    const error = await rejectionOf(client.transactions.get.query({ id: `txn_${"0".repeat(26)}` }))
    expect(errorTag(error)).toBe("NotFound")
    expect(front.seen).toHaveLength(1)
  })

  it("retries a create cut off after the API recorded it, with the same key: recorded once", async () => {
    const client = clientVia()
    front.steps.push("proxy-then-drop")
    const created = await client.transactions.create.mutate({
      ...credit(),
      description: "once only",
    })
    expect(created.replayed).toBe(true)
    expect(front.seen).toHaveLength(2)
    const keys = front.seen.map((request) => JSON.parse(request.body)["0"].idempotencyKey)
    expect(keys[0]).toMatch(/^idk_[0-9a-f]{32}$/)
    expect(keys[1]).toBe(keys[0])
    const direct = createTxnClient({ url: api.url, apiKey: api.key })
    const page = await direct.transactions.list.query({ accountId, search: "once only" })
    expect(page.items.map((t) => t.id)).toEqual([created.id])
  })

  it("keeps a caller's own idempotency key", async () => {
    const client = clientVia()
    front.steps.push("drop")
    await client.transactions.create.mutate({ ...credit(), idempotencyKey: `mine-${accountId}` })
    const keys = front.seen.map((request) => JSON.parse(request.body)["0"].idempotencyKey)
    expect(keys).toEqual([`mine-${accountId}`, `mine-${accountId}`])
  })

  it("sends a create without a key exactly once when keys are off, and other mutations once", async () => {
    const client = clientVia({ idempotencyKeys: false })
    front.steps.push("drop")
    await rejectionOf(client.transactions.create.mutate(credit()))
    expect(front.seen).toHaveLength(1)
    expect(JSON.parse(front.seen[0]!.body)["0"]).not.toHaveProperty("idempotencyKey")

    const keyed = clientVia()
    const created = await keyed.transactions.create.mutate(credit())
    front.seen.length = 0
    front.steps.push({ status: 503, retryAfter: "0" })
    await rejectionOf(
      keyed.transactions.update.mutate({ id: created.id, expectedVersion: 1, category: "x" }),
    )
    expect(front.seen).toHaveLength(1)
    expect(JSON.parse(front.seen[0]!.body)["0"]).not.toHaveProperty("idempotencyKey")
  })

  it("stops retrying when the call's signal aborts, and sends nothing more", async () => {
    const client = clientVia()
    front.steps.push({ status: 503, retryAfter: "10" })
    const controller = new AbortController()
    const call = rejectionOf(
      client.accounts.get.query({ id: accountId }, { signal: controller.signal }),
    )
    while (front.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    controller.abort()
    const error = await call
    expect(error).toBeInstanceOf(Error)
    expect(errorTag(error)).toBeUndefined()
    expect(front.seen).toHaveLength(1)
  })

  it("cancels a call in flight when its signal aborts", async () => {
    const client = clientVia()
    const controller = new AbortController()
    controller.abort()
    await rejectionOf(client.accounts.get.query({ id: accountId }, { signal: controller.signal }))
    expect(front.seen).toHaveLength(0)
  })
})

describe("tokens", () => {
  it("sends a token given as a string", async () => {
    const client = clientVia({ apiKey: undefined, token: api.key })
    await client.accounts.get.query({ id: accountId })
    expect(front.seen[0]?.authorization).toBe(`Bearer ${api.key}`)
  })

  it("calls a token function before every request, so it can hand out a fresh one", async () => {
    let calls = 0
    const client = clientVia({
      apiKey: undefined,
      token: async () => {
        calls += 1
        return api.key
      },
    })
    await client.accounts.get.query({ id: accountId })
    await client.accounts.list.query({})
    expect(calls).toBe(2)
    expect(front.seen.map((request) => request.authorization)).toEqual([
      `Bearer ${api.key}`,
      `Bearer ${api.key}`,
    ])
  })

  it("refuses both an API key and a token", () => {
    expect(() => createTxnClient({ url: api.url, apiKey: "a", token: "b" })).toThrow(/either/)
  })
})
