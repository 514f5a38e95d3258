import { randomUUID } from "node:crypto"
import { Agent } from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, rawRequest, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi({ maxBatchCalls: 3 })
})
afterAll(() => api.close())

/** The names of the test user's accounts. */
const accountNames = async (): Promise<Array<string>> => {
  const response = await api.query("accounts.list", { limit: 100 })
  expect(response.status).toBe(200)
  return response.body.result.data.items.map((account: Json) => account.name)
}

const createBatch = (names: ReadonlyArray<string>) =>
  api.call(
    `${names.map(() => "accounts.create").join(",")}?batch=1`,
    Object.fromEntries(names.map((name, i) => [i, { name, currency: "USD" }])),
  )

describe("calls per batch", () => {
  it("runs a batch of as many calls as TXN_MAX_BATCH_CALLS allows", async () => {
    const names = [1, 2, 3].map((i) => `at the cap ${i} ${randomUUID()}`)
    const response = await createBatch(names)
    expect(response.status).toBe(200)
    expect(await accountNames()).toEqual(expect.arrayContaining(names))
  })

  it("answers one call more with 413 PayloadTooLarge naming the limit, and runs none of them", async () => {
    const names = [1, 2, 3, 4].map((i) => `over the cap ${i} ${randomUUID()}`)
    const response = await createBatch(names)
    expect(response.status).toBe(413)
    expect(response.body.error.message).toBe("A batch may hold at most 3 calls; this one has more")
    expect(response.body.error.data).toMatchObject({
      tag: "PayloadTooLarge",
      httpStatus: 413,
      details: { limit: 3, unit: "calls" },
      requestId: response.headers.get("x-request-id"),
    })
    const stored = await accountNames()
    for (const name of names) expect(stored).not.toContain(name)
  })

  it("refuses a batch of 7,000 unknown procedures without a key in one short answer", async () => {
    const response = await rawRequest(
      `${api.url}/trpc/${Array.from({ length: 7_000 }, () => "x").join(",")}?batch=1`,
    )
    expect(response.status).toBe(413)
    expect(response.body.error.data).toMatchObject({
      tag: "PayloadTooLarge",
      details: { limit: 3, unit: "calls" },
    })
    expect(JSON.stringify(response.body).length).toBeLessThan(1_000)
    // Nor does the request log copy the 14 KB path.
    const logged = api.logs.lines.find(
      (line) => line.msg === "request" && line.requestId === response.headers["x-request-id"],
    )
    const path = String(logged?.path)
    expect(path).toMatch(/^\/trpc\/x,x,.*\.\.\. \(14005 characters\)$/)
    expect(path.length).toBeLessThan(250)
  })

  it("counts commas the way tRPC splits the path, encoded ones included", async () => {
    expect((await rawRequest(`${api.url}/trpc/x%2Cx%2cx,x?batch=1`)).status).toBe(413)
    // Three calls, under the cap: tRPC answers each of them.
    const three = await rawRequest(`${api.url}/trpc/x%2Cx,x?batch=1`)
    expect(three.status).toBe(404)
    expect(three.body).toHaveLength(3)
  })

  it("counts a path without ?batch=1 as one call, whatever its commas", async () => {
    const response = await rawRequest(`${api.url}/trpc/x,x,x,x`)
    expect(response.status).toBe(404)
    expect(response.body.error.data.tag).toBe("NotFound")
  })
})

describe("two Authorization headers", () => {
  it("are refused with 400 ValidationError naming the header, before anything runs", async () => {
    const name = `two keys ${randomUUID()}`
    const other = await api.newUser()
    const response = await rawRequest(`${api.url}/trpc/accounts.create`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: [`Bearer ${api.key}`, `Bearer ${other.key}`],
      },
      body: Buffer.from(JSON.stringify({ name, currency: "USD" })),
    })
    expect(response.status).toBe(400)
    expect(response.body.error.data).toMatchObject({
      tag: "ValidationError",
      issues: [
        { path: ["authorization"], message: "Send one Authorization header; this request has 2" },
      ],
    })
    expect(await accountNames()).not.toContain(name)
  })

  it("are refused even when both carry the same key", async () => {
    const response = await rawRequest(`${api.url}/trpc/accounts.list`, {
      headers: { authorization: [`Bearer ${api.key}`, `Bearer ${api.key}`] },
    })
    expect(response.status).toBe(400)
    expect(response.body.error.data.issues[0].path).toEqual(["authorization"])
  })
})

describe("the body's encoding", () => {
  const post = (path: string, body: Buffer) =>
    rawRequest(`${api.url}/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${api.key}` },
      body,
    })
  /** `{"name":"<prefix><bytes>","currency":"USD"}` with raw bytes inside the name. */
  const withBytes = (prefix: string, bytes: ReadonlyArray<number>) =>
    Buffer.concat([
      Buffer.from(`{"name":"${prefix}`),
      Buffer.from(bytes),
      Buffer.from('","currency":"USD"}'),
    ])

  it.each([
    ["a stray continuation byte", [0xff]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["an overlong encoding of '/'", [0xc0, 0xaf]],
    ["an encoded UTF-16 surrogate", [0xed, 0xa0, 0x80]],
  ])("answers %s with 400 ValidationError and stores nothing", async (_what, bytes) => {
    const prefix = `bad ${randomUUID()} `
    const response = await post("accounts.create", withBytes(prefix, bytes))
    expect(response.status).toBe(400)
    expect(response.body.error.data).toMatchObject({
      tag: "ValidationError",
      issues: [{ path: [], message: "The request body is not valid UTF-8" }],
    })
    expect((await accountNames()).some((name) => name.startsWith(prefix))).toBe(false)
  })

  it("refuses a whole batch whose body is not UTF-8, running none of its calls", async () => {
    const prefix = `bad batch ${randomUUID()} `
    const body = Buffer.concat([
      Buffer.from(`{"0":{"name":"${prefix}ok","currency":"USD"},"1":{"name":"${prefix}`),
      Buffer.from([0xff]),
      Buffer.from('","currency":"USD"}}'),
    ])
    const response = await post("accounts.create,accounts.create?batch=1", body)
    expect(response.status).toBe(400)
    expect(response.body.error.data.tag).toBe("ValidationError")
    expect((await accountNames()).some((name) => name.startsWith(prefix))).toBe(false)
  })

  it("answers a GET whose ?input= holds percent-encoded bytes that are not UTF-8 with 400", async () => {
    const response = await rawRequest(
      `${api.url}/trpc/accounts.list?input=${encodeURIComponent('{"limit":1,"cursor":"')}%FF%22%7D`,
      { headers: { authorization: `Bearer ${api.key}` } },
    )
    expect(response.status).toBe(400)
    expect(response.body.error.data).toMatchObject({
      tag: "ValidationError",
      issues: [{ path: ["input"], message: expect.stringContaining("not valid UTF-8") }],
    })
  })

  it("still reads a GET whose ?input= holds encoded UTF-8 or a bare %", async () => {
    const search = `café 50% ${randomUUID()}`
    const input = encodeURIComponent(JSON.stringify({ limit: 1 }))
    const answers = [
      await api.query("transactions.list", { search }),
      await rawRequest(`${api.url}/trpc/accounts.list?input=${input}&note=100%`, {
        headers: { authorization: `Bearer ${api.key}` },
      }),
    ]
    expect(answers.map((answer) => answer.status)).toEqual([200, 200])
  })

  it.each([
    ["with a Content-Length", {}],
    ["sent chunked", { "transfer-encoding": "chunked" }],
  ])(
    "answers a body over 1 MiB %s with 413 PayloadTooLarge naming the limit, and keeps the connection usable",
    async (_how, framing) => {
      // One connection for both requests: the second finds it still working after the 413.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      try {
        const headers = { "content-type": "application/json", authorization: `Bearer ${api.key}` }
        const tooLarge = await rawRequest(`${api.url}/trpc/accounts.create`, {
          method: "POST",
          headers: { ...headers, ...framing },
          body: Buffer.alloc(1024 * 1024 + 1, "a"),
          agent,
        })
        expect(tooLarge.status).toBe(413)
        expect(tooLarge.body.error.data).toMatchObject({
          tag: "PayloadTooLarge",
          details: { limit: 1024 * 1024, unit: "bytes" },
        })
        const next = await rawRequest(`${api.url}/trpc/accounts.list`, { headers, agent })
        expect(next.status).toBe(200)
        expect(next.reusedSocket).toBe(true)
      } finally {
        agent.destroy()
      }
    },
  )

  it("keeps valid multi-byte UTF-8 exactly", async () => {
    const name = `café 🦀 ${randomUUID()}`
    const response = await post(
      "accounts.create",
      Buffer.from(JSON.stringify({ name, currency: "USD" })),
    )
    expect(response.status).toBe(200)
    expect(response.body.result.data.name).toBe(name)
  })
})
