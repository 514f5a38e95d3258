import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let ready = true
beforeAll(async () => {
  api = await startTestApi({
    checkReadiness: async () => {
      if (!ready) throw new Error("database down")
    },
  })
})
afterAll(() => api.close())

describe("health", () => {
  it("answers /healthz with 200 while the process runs", async () => {
    const response = await fetch(`${api.url}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: "ok" })
  })

  it("answers /readyz with 200 when its dependencies answer and 503 when one does not", async () => {
    const up = await fetch(`${api.url}/readyz`)
    expect(up.status).toBe(200)
    expect(await up.json()).toEqual({ status: "ready" })

    ready = false
    try {
      const down = await fetch(`${api.url}/readyz`)
      expect(down.status).toBe(503)
      expect(await down.json()).toEqual({ status: "unavailable", tag: "Unavailable" })
      expect(
        api.logs.lines.some((l) => l.msg === "not ready" && l.reason === "Error: database down"),
      ).toBe(true)
    } finally {
      ready = true
    }
  })
})

describe("request ids and logs", () => {
  it("echoes a well-formed x-request-id and ties the access log line to it", async () => {
    const response = await api.call(
      "accounts.list",
      {},
      { method: "GET", headers: { "x-request-id": "client-chosen.id_1" } },
    )
    expect(response.status).toBe(200)
    expect(response.headers.get("x-request-id")).toBe("client-chosen.id_1")
    const line = api.logs.lines.find((l) => l.requestId === "client-chosen.id_1")
    expect(line).toMatchObject({
      level: "info",
      name: "api",
      msg: "request",
      method: "GET",
      path: "/trpc/accounts.list",
      status: 200,
    })
    expect(typeof line?.durationMs).toBe("number")
  })

  it("replaces a missing or hostile request id with a fresh UUID", async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
    const none = await fetch(`${api.url}/healthz`)
    expect(none.headers.get("x-request-id")).toMatch(uuid)
    for (const hostile of ["a b", "x".repeat(101), "id\u00e9", "<script>"]) {
      const response = await fetch(`${api.url}/healthz`, {
        headers: { "x-request-id": encodeURI(hostile) === hostile ? hostile : "%00" },
      })
      expect(response.headers.get("x-request-id")).toMatch(uuid)
    }
  })

  it("puts the request id in error answers", async () => {
    const response = await api.call(
      "accounts.get",
      { id: "nope" },
      { method: "GET", headers: { "x-request-id": "err-42" } },
    )
    expect(response.status).toBe(400)
    expect(response.body.error.data.requestId).toBe("err-42")
  })

  it("logs one JSON object per line, never the request body", async () => {
    await api.mutate("accounts.create", { name: "Secret-name-7f3a", currency: "USD" })
    expect(api.logs.raw.length).toBeGreaterThan(0)
    for (const raw of api.logs.raw) {
      const parsed = JSON.parse(raw) as Json
      expect(Number.isNaN(Date.parse(parsed.time))).toBe(false)
      expect(typeof parsed.msg).toBe("string")
    }
    expect(api.logs.raw.join("\n")).not.toContain("Secret-name-7f3a")
  })
})
