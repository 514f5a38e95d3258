import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { exposedHeaders, preflightMaxAgeSeconds } from "../src/cors.ts"
import { startTestApi, type TestApi } from "./harness.ts"

const app = "https://app.example.com"

let api: TestApi
let closed: TestApi
beforeAll(async () => {
  ;[api, closed] = await Promise.all([
    startTestApi({ corsOrigins: [app, "http://localhost:*", "http://[::1]:*"] }),
    startTestApi(),
  ])
})
afterAll(() => Promise.all([api.close(), closed.close()]))

/** A browser's preflight for `method` with `headers` to `path`, sent from `origin`. */
const preflight = (
  target: TestApi,
  path: string,
  origin: string,
  method = "POST",
  headers = "authorization,content-type",
) =>
  fetch(`${target.url}${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": headers,
    },
  })

const send = (target: TestApi, path: string, origin: string, init: RequestInit = {}) =>
  fetch(`${target.url}${path}`, {
    ...init,
    headers: {
      origin,
      authorization: `Bearer ${target.key}`,
      "content-type": "application/json",
      ...(init.headers as Record<string, string> | undefined),
    },
  })

const varies = (response: Response) =>
  (response.headers.get("vary") ?? "").split(",").map((name) => name.trim().toLowerCase())

describe("CORS from an allowed origin", () => {
  it("answers the preflight of a tRPC mutation with what the page may send", async () => {
    const response = await preflight(api, "/trpc/accounts.create", app)
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-origin")).toBe(app)
    expect(response.headers.get("access-control-allow-methods")?.split(",")).toEqual(
      expect.arrayContaining(["GET", "POST", "PATCH"]),
    )
    expect(response.headers.get("access-control-allow-headers")).toBe("authorization,content-type")
    expect(response.headers.get("access-control-max-age")).toBe(String(preflightMaxAgeSeconds))
    expect(response.headers.get("access-control-allow-credentials")).toBeNull()
    expect(varies(response)).toContain("origin")
    expect(await response.text()).toBe("")
  })

  it("answers the preflight of a batched query, and of the headers REST sends", async () => {
    const batched = await preflight(
      api,
      "/trpc/accounts.list,accounts.get?batch=1&input=%7B%7D",
      app,
      "GET",
      "authorization,trpc-accept,x-request-id",
    )
    expect(batched.status).toBe(204)
    expect(batched.headers.get("access-control-allow-origin")).toBe(app)
    expect(batched.headers.get("access-control-allow-headers")).toBe(
      "authorization,trpc-accept,x-request-id",
    )
    const rest = await preflight(api, "/v1/accounts/x", app, "PATCH", "idempotency-key,if-match")
    expect(rest.status).toBe(204)
    expect(rest.headers.get("access-control-allow-origin")).toBe(app)
  })

  it("lets the page read the answer and the headers it needs: rate limit, request id, replay", async () => {
    const response = await send(api, "/trpc/accounts.create", app, {
      method: "POST",
      body: JSON.stringify({ name: "From a page", currency: "EUR" }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("access-control-allow-origin")).toBe(app)
    const exposed = response.headers.get("access-control-expose-headers")?.split(",") ?? []
    expect(exposed).toEqual([...exposedHeaders])
    for (const name of ["RateLimit-Remaining", "Retry-After", "Idempotent-Replayed", "ETag"]) {
      expect(exposed).toContain(name)
    }
    expect(exposed).toContain("x-request-id")
    expect(response.headers.get("ratelimit-remaining")).not.toBeNull()
    expect(varies(response)).toContain("origin")
    const body = (await response.json()) as { result: { data: { name: string } } }
    expect(body.result.data.name).toBe("From a page")
  })

  it("lets the page read a refusal too: 401 without a key, 404 for an unknown path", async () => {
    const refused = await fetch(`${api.url}/trpc/accounts.list`, { headers: { origin: app } })
    expect(refused.status).toBe(401)
    expect(refused.headers.get("access-control-allow-origin")).toBe(app)
    const unknown = await send(api, "/nowhere", app)
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get("access-control-allow-origin")).toBe(app)
  })

  it("takes any port of a host listed with :*, and of no other host or scheme", async () => {
    for (const origin of [
      "http://localhost:5173",
      "http://localhost",
      "http://localhost:65535",
      "http://[::1]:8080",
    ]) {
      const response = await preflight(api, "/trpc/accounts.create", origin)
      expect(response.headers.get("access-control-allow-origin"), origin).toBe(origin)
    }
    for (const origin of [
      "https://localhost:5173",
      "http://localhost.evil.example:5173",
      "http://evil.example:5173",
      "http://127.0.0.1:5173",
      "https://app.example.com:8443",
      "http://app.example.com",
      "https://app.example.com.evil.example",
      "HTTP://LOCALHOST:5173",
      "http://localhost:5173/",
      "http://user@localhost:5173",
      "null",
      "",
      `${app}, https://evil.example`,
    ]) {
      const response = await preflight(api, "/trpc/accounts.create", origin)
      expect(response.headers.get("access-control-allow-origin"), origin).toBeNull()
    }
  })
})

describe("CORS from an origin not allowed", () => {
  it("answers its preflight 204 with nothing that lets the page on, and runs nothing", async () => {
    const response = await preflight(api, "/trpc/accounts.create", "https://evil.example")
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-origin")).toBeNull()
    expect(response.headers.get("access-control-allow-methods")).toBeNull()
    expect(response.headers.get("access-control-expose-headers")).toBeNull()
    expect(varies(response)).toContain("origin")
  })

  it("gives its requests no Access-Control-Allow-Origin, so the browser keeps the answer from the page", async () => {
    const response = await send(api, "/trpc/accounts.list", "https://evil.example")
    expect(response.status).toBe(200)
    expect(response.headers.get("access-control-allow-origin")).toBeNull()
    expect(response.headers.get("access-control-expose-headers")).toBeNull()
  })

  it("allows no origin at all when none are configured, as in production by default", async () => {
    const response = await preflight(closed, "/trpc/accounts.create", "http://localhost:5173")
    expect(response.status).toBe(204)
    expect(response.headers.get("access-control-allow-origin")).toBeNull()
    const call = await send(closed, "/trpc/accounts.list", app)
    expect(call.status).toBe(200)
    expect(call.headers.get("access-control-allow-origin")).toBeNull()
  })
})
