import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chromiumPath, hasChromium, launchChromium } from "./browser.ts"
import { startTestApi, type TestApi } from "./harness.ts"

if (!hasChromium) {
  console.warn(`${chromiumPath} is missing (apt-get install chromium): browser CORS tests skipped`)
}

/** A page server of its own origin: an empty page the tests run their script in. */
const servePage = async (): Promise<{ server: Server; origin: string }> => {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" })
    response.end("<!doctype html><title>A page on another origin</title>")
  })
  server.listen(0, "127.0.0.1")
  await new Promise((resolve) => server.once("listening", resolve))
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

interface Answer {
  readonly status: number
  readonly body: unknown
  readonly rateLimitRemaining: string | null
  readonly requestId: string | null
}

interface Call {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string
}

/** `fetch` from inside `page`, as the page's own script would call the API. */
const fetchFrom = (page: Page, url: string, init: Call): Promise<Answer | string> =>
  page.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, init)
        return {
          status: response.status,
          body: await response.json(),
          rateLimitRemaining: response.headers.get("ratelimit-remaining"),
          requestId: response.headers.get("x-request-id"),
        }
      } catch (error) {
        return String(error)
      }
    },
    { url, init },
  )

describe.skipIf(!hasChromium)("a page on another origin, in Chromium", () => {
  let browser: Browser
  let api: TestApi
  let allowed: { server: Server; origin: string }
  let other: { server: Server; origin: string }
  let page: Page

  beforeAll(async () => {
    ;[allowed, other] = await Promise.all([servePage(), servePage()])
    api = await startTestApi({ corsOrigins: [allowed.origin] })
    browser = await launchChromium()
    page = await browser.newPage()
    await page.goto(`${allowed.origin}/`)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await api?.close()
    allowed?.server.close()
    other?.server.close()
  })

  const authorized = () => ({
    authorization: `Bearer ${api.key}`,
    "content-type": "application/json",
  })

  it("creates an account through tRPC after the browser's preflight, and reads the exposed headers", async () => {
    const answer = await fetchFrom(page, `${api.url}/trpc/accounts.create`, {
      method: "POST",
      headers: authorized(),
      body: JSON.stringify({ name: "Made in a browser", currency: "EUR" }),
    })
    expect(answer).toMatchObject({
      status: 200,
      body: { result: { data: { name: "Made in a browser", currency: "EUR" } } },
    })
    const { rateLimitRemaining, requestId } = answer as Answer
    expect(Number(rateLimitRemaining)).toBeGreaterThan(0)
    expect(requestId).toMatch(/^[A-Za-z0-9._-]+$/)
    // The browser asked first: the API saw the preflight of this very call.
    expect(
      api.logs.lines.some(
        (line) => line.method === "OPTIONS" && line.path === "/trpc/accounts.create",
      ),
    ).toBe(true)
  })

  it("runs a batched query by GET and a query POSTed as the client's method override", async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: { limit: 5 }, 1: { limit: 1 } }))
    const batched = await fetchFrom(
      page,
      `${api.url}/trpc/accounts.list,accounts.list?batch=1&input=${input}`,
      { headers: { authorization: `Bearer ${api.key}`, "trpc-accept": "application/json" } },
    )
    expect(batched).toMatchObject({ status: 200 })
    expect((batched as Answer).body).toHaveLength(2)
    const posted = await fetchFrom(page, `${api.url}/trpc/accounts.list`, {
      method: "POST",
      headers: authorized(),
      body: JSON.stringify({ limit: 1 }),
    })
    expect(posted).toMatchObject({ status: 200, body: { result: { data: { items: [{}] } } } })
  })

  it("lets the page read a refusal: 401 with its tag", async () => {
    const answer = await fetchFrom(page, `${api.url}/trpc/accounts.list`, {
      headers: { authorization: "Bearer not-a-key" },
    })
    expect(answer).toMatchObject({
      status: 401,
      body: { error: { data: { tag: "Unauthorized" } } },
    })
  })

  it("keeps a page of an origin not allowed from calling it", async () => {
    const stranger = await browser.newPage()
    await stranger.goto(`${other.origin}/`)
    const answer = await fetchFrom(stranger, `${api.url}/trpc/accounts.create`, {
      method: "POST",
      headers: authorized(),
      body: JSON.stringify({ name: "Not from here", currency: "EUR" }),
    })
    expect(answer).toMatch(/TypeError: Failed to fetch/)
    await stranger.close()
    // The preflight failed, so the create itself was never sent.
    const names = await api.query("accounts.list", { limit: 100 })
    expect(
      names.body.result.data.items.map((account: { name: string }) => account.name),
    ).not.toContain("Not from here")
  })
})
