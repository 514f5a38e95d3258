import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestApi, type TestApi } from "./harness.ts"

let dir: string
let api: TestApi
let unbuilt: TestApi
const page = "<!doctype html><title>dashboard</title>"
const script = "console.log('dashboard')"

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dashboard-"))
  await mkdir(join(dir, "assets"))
  await writeFile(join(dir, "index.html"), page)
  await writeFile(join(dir, "assets", "index-Ab12Cd34.js"), script)
  // A file beside the build that no path under /app may reach.
  await writeFile(join(dir, "..", `${dir.split("/").pop()}-secret.txt`), "TOP-SECRET-CONTENT")
  api = await startTestApi({ dashboardDir: dir })
  unbuilt = await startTestApi({ dashboardDir: join(dir, "missing") })
})
afterAll(async () => {
  await api.close()
  await unbuilt.close()
  await rm(dir, { recursive: true, force: true })
  await rm(join(dir, "..", `${dir.split("/").pop()}-secret.txt`), { force: true })
})

/** A GET with the path sent exactly as written (fetch would normalize `..` away). */
const rawGet = (base: string, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const url = new URL(base)
      const sent = request(
        { host: url.hostname, port: url.port, path, method: "GET", headers },
        (response) => {
          let body = ""
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => {
            body += chunk
          })
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          )
        },
      )
      sent.on("error", reject)
      sent.end()
    },
  )

describe("the dashboard under /app", () => {
  it("redirects /app to /app/, keeping the query", async () => {
    const response = await fetch(`${api.url}/app?accountId=acc_1`, { redirect: "manual" })
    expect(response.status).toBe(308)
    expect(response.headers.get("location")).toBe("/app/?accountId=acc_1")
  })

  it("answers every screen's path with the page, never cached, locked to its own origin", async () => {
    for (const path of ["/app/", "/app/transactions?status=posted&selected=txn_1", "/app/a/b/c"]) {
      const response = await fetch(`${api.url}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get("content-type")).toMatch(/^text\/html/)
      expect(response.headers.get("cache-control")).toBe("no-cache")
      expect(response.headers.get("content-security-policy")).toContain("script-src 'self'")
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
      expect(response.headers.get("x-content-type-options")).toBe("nosniff")
      expect(response.headers.get("x-request-id")).toBeTruthy()
      expect(await response.text()).toBe(page)
    }
  })

  it("serves content-hashed assets as immutable for a year, with validators", async () => {
    const response = await fetch(`${api.url}/app/assets/index-Ab12Cd34.js`)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toMatch(/javascript/)
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
    expect(await response.text()).toBe(script)
    const etag = response.headers.get("etag")
    expect(etag).toBeTruthy()
    const again = await rawGet(api.url, "/app/assets/index-Ab12Cd34.js", {
      "if-none-match": etag ?? "",
    })
    expect(again.status).toBe(304)
    const head = await fetch(`${api.url}/app/assets/index-Ab12Cd34.js`, { method: "HEAD" })
    expect(head.status).toBe(200)
    expect(head.headers.get("content-length")).toBe(String(script.length))
  })

  it("answers a missing asset 404 NotFound in JSON, not with the page", async () => {
    const response = await fetch(`${api.url}/app/assets/index-Zz99.js`)
    expect(response.status).toBe(404)
    expect(response.headers.get("cache-control")).toBeNull()
    const body = (await response.json()) as { error: { tag: string; requestId: string } }
    expect(body.error.tag).toBe("NotFound")
    expect(body.error.requestId).toBeTruthy()
  })

  it("never serves a file outside the build, however the path is written", async () => {
    const name = `${dir.split("/").pop()}-secret.txt`
    for (const path of [
      `/app/assets/../../${name}`,
      `/app/assets/%2e%2e/%2e%2e/${name}`,
      `/app/assets/..%2f..%2f${name}`,
      `/app/assets/%2e%2e%2f%2e%2e%2f${name}`,
      "/app/assets/%00.js",
      "/app/assets/%E0%A4%A.js",
      "/app/assets/../index.html",
    ]) {
      const response = await rawGet(api.url, path)
      expect(response.body, path).not.toContain("TOP-SECRET-CONTENT")
      expect(response.status, path).toBeLessThan(500)
      if (response.status === 200) expect(response.body, path).toBe(page)
    }
  })

  it("answers other methods 404 like any unknown route", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await fetch(`${api.url}/app/`, { method })
      expect(response.status, method).toBe(404)
      expect(((await response.json()) as { error: { tag: string } }).error.tag).toBe("NotFound")
    }
  })

  it("says how to build it when there is no build", async () => {
    const response = await fetch(`${unbuilt.url}/app/`)
    expect(response.status).toBe(404)
    const body = (await response.json()) as { error: { tag: string; message: string } }
    expect(body.error.tag).toBe("NotFound")
    expect(body.error.message).toContain("npm run build -w @txn/web")
  })
})
