import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chromiumPath, hasChromium, launchChromium } from "./browser.ts"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

if (!hasChromium) {
  console.warn(`${chromiumPath} is missing (apt-get install chromium): /docs browser tests skipped`)
}

describe("/docs", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi()
  })
  afterAll(() => api.close())

  it("is one page with Scalar's script inside it: nothing loaded from anywhere else", async () => {
    const response = await fetch(`${api.url}/docs`)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toMatch(/^text\/html/)
    const html = await response.text()
    expect(html).toContain("Scalar.createApiReference")
    expect(html).not.toMatch(/<script[^>]+src=/)
    expect(html).not.toMatch(/<link[^>]+href="https?:/)
  })

  describe.skipIf(!hasChromium)("in Chromium, offline", () => {
    let browser: Browser
    let page: Page
    const elsewhere: Array<string> = []

    beforeAll(async () => {
      browser = await launchChromium()
      page = await browser.newPage()
      // Only the API is reachable: anything else the page asks for is refused and recorded.
      await page.route("**/*", (route) => {
        const url = route.request().url()
        if (url.startsWith(api.url)) return route.continue()
        elsewhere.push(url)
        return route.abort()
      })
      await page.goto(`${api.url}/docs`)
    }, 60_000)
    afterAll(async () => {
      await browser?.close()
    })

    it("lists every group and the operations of the first", async () => {
      const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json
      const tags = new Set<string>()
      for (const operations of Object.values<Json>(document.paths)) {
        for (const operation of Object.values<Json>(operations)) {
          for (const tag of operation.tags ?? []) tags.add(tag)
        }
      }
      expect([...tags]).toEqual(
        expect.arrayContaining([
          "Accounts",
          "Transactions",
          "Transfers",
          "Webhooks",
          "Exports",
          "Admin",
        ]),
      )
      for (const tag of tags) {
        await expect
          .poll(() => page.getByRole("button", { name: new RegExp(tag) }).count())
          .toBeGreaterThan(0)
      }
      for (const summary of ["Open an account", "List accounts", "Get an account"]) {
        expect(await page.getByRole("button", { name: new RegExp(`^${summary}`) }).count()).toBe(1)
      }
      expect(elsewhere).toEqual([])
    })

    it("tries an operation against the running API with a key", async () => {
      const opened = await api.rest("POST", "/v1/accounts", {
        body: { name: "Seen from /docs", currency: "EUR" },
      })
      await page.getByRole("textbox", { name: "Bearer Token" }).first().fill(api.key)
      await page.getByRole("button", { name: /^List accounts/ }).click()
      await page.getByRole("button", { name: /Test Request\s*\(get \/v1\/accounts\)/ }).click()
      const answer = page.waitForResponse(
        (response) => new URL(response.url()).pathname === "/v1/accounts",
      )
      await page.getByRole("button", { name: /^Send/ }).filter({ visible: true }).first().click()
      const response = await answer
      expect(response.status()).toBe(200)
      expect(response.request().headers().authorization).toBe(`Bearer ${api.key}`)
      const body = (await response.json()) as Json
      expect(body.items.map((account: Json) => account.id)).toContain(opened.body.id)
      expect(elsewhere).toEqual([])
    })
  })
})
