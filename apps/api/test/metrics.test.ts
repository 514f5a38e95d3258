import { once } from "node:events"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeRateLimit } from "../src/rateLimit.ts"
import { type ApiProcess, startApiProcess } from "./apiProcess.ts"
import { startTestApi, type TestApi } from "./harness.ts"

/** The samples of an OpenMetrics exposition: `name{labels}` to value, exemplars left out. */
const samples = (text: string) => {
  const found = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const sample = line.split(" # ")[0]!
    const at = sample.lastIndexOf(" ")
    found.set(sample.slice(0, at), Number(sample.slice(at + 1)))
  }
  return found
}

/** The exemplar labels of each sample that has one: `name{labels}` to `{request_id="…"}`. */
const exemplars = (text: string) =>
  new Map(
    text
      .split("\n")
      .filter((line) => !line.startsWith("#") && line.includes(" # "))
      .map((line) => {
        const [sample, exemplar] = line.split(" # ") as [string, string]
        return [sample.slice(0, sample.lastIndexOf(" ")), exemplar.split(" ")[0]!]
      }),
  )

const scrape = async (url: string) => {
  const response = await fetch(`${url}/metrics`)
  expect(response.status).toBe(200)
  expect(response.headers.get("content-type")).toContain(
    "application/openmetrics-text; version=1.0.0",
  )
  const text = await response.text()
  expect(text.endsWith("# EOF\n")).toBe(true)
  return text
}

describe("/metrics", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi({ databaseConnections: true })
  })
  afterAll(() => api.close())

  it("counts requests by door, route and status, with their latency", async () => {
    const created = await api.mutate("accounts.create", { name: "Metered", currency: "USD" })
    expect(created.status).toBe(200)
    const id = created.body.result.data.id as string
    expect((await api.rest("GET", `/v1/accounts/${id}`)).status).toBe(200)
    expect((await api.rest("GET", "/v1/accounts/acc_00000000000000000000000000")).status).toBe(404)
    await fetch(`${api.url}/healthz`)

    const text = await scrape(api.url)
    const found = samples(text)
    expect(
      found.get('txn_http_requests_total{door="trpc",route="accounts.create",status="200"}'),
    ).toBe(1)
    expect(
      found.get('txn_http_requests_total{door="rest",route="/v1/accounts/{id}",status="200"}'),
    ).toBe(1)
    expect(
      found.get('txn_http_requests_total{door="rest",route="/v1/accounts/{id}",status="404"}'),
    ).toBe(1)
    expect(found.get('txn_http_requests_total{door="other",route="/healthz",status="200"}')).toBe(1)
    expect(
      found.get('txn_http_request_duration_seconds_count{door="trpc",route="accounts.create"}'),
    ).toBe(1)
    expect(
      found.get(
        'txn_http_request_duration_seconds_bucket{le="+Inf",door="trpc",route="accounts.create"}',
      ),
    ).toBe(1)
    // Node's own figures, and the connections to PostgreSQL (this one's scrape among them).
    expect(found.get("process_resident_memory_bytes")).toBeGreaterThan(0)
    expect(found.get('txn_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1)
    expect(found.get('txn_db_pool_connections{state="active"}')).toBeGreaterThanOrEqual(1)
  })

  it("carries the latest request's id as each series' exemplar, as its logs and spans do", async () => {
    const anonymous = await fetch(`${api.url}/v1/accounts`)
    const given = anonymous.headers.get("x-request-id")
    expect(given).toMatch(/^[0-9a-f-]{36}$/)
    // Last, so that whichever latency bucket it falls in names it.
    const response = await fetch(`${api.url}/v1/accounts`, {
      headers: { authorization: `Bearer ${api.key}`, "x-request-id": "metered-list-1" },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("x-request-id")).toBe("metered-list-1")

    const found = exemplars(await scrape(api.url))
    expect(
      found.get('txn_http_requests_total{door="rest",route="/v1/accounts",status="200"}'),
    ).toBe('{request_id="metered-list-1"}')
    expect(
      found.get('txn_http_requests_total{door="rest",route="/v1/accounts",status="401"}'),
    ).toBe(`{request_id="${given}"}`)
    const buckets = [...found].filter(([sample]) =>
      sample.startsWith('txn_http_request_duration_seconds_bucket{le="'),
    )
    expect(buckets.map(([, exemplar]) => exemplar)).toContain('{request_id="metered-list-1"}')
  })

  it("names routes from procedures and templates only: ids and scanners' guesses add no series", async () => {
    await api.call("no.such.procedure", {}, { method: "GET" })
    const batch = await fetch(
      `${api.url}/trpc/accounts.list,accounts.list?batch=1&input=${encodeURIComponent("{}")}`,
      { headers: { authorization: `Bearer ${api.key}` } },
    )
    expect(batch.status).toBe(200)
    await fetch(`${api.url}/wp-login.php`)
    await fetch(`${api.url}/v1/${"x".repeat(300)}`)
    await fetch(`${api.url}/trpc/${"y".repeat(300)}`)
    const text = await scrape(api.url)
    expect(text).not.toContain("wp-login")
    expect(text).not.toContain("xxxxxxxx")
    expect(text).not.toContain("yyyyyyyy")
    expect(text).not.toMatch(/acc_[0-9a-z]{26}/)
    const found = samples(text)
    expect(
      found.get('txn_http_requests_total{door="trpc",route="unmatched",status="404"}'),
    ).toBeGreaterThanOrEqual(2)
    expect(found.get('txn_http_requests_total{door="trpc",route="batch",status="200"}')).toBe(1)
    expect(found.get('txn_http_requests_total{door="other",route="unmatched",status="404"}')).toBe(
      1,
    )
    expect(found.get('txn_http_requests_total{door="rest",route="unmatched",status="404"}')).toBe(1)
  })
})

describe("/metrics of a rate-limited API", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi({ rateLimit: makeRateLimit({ points: 1 }) })
  })
  afterAll(() => api.close())

  it("counts the refusals of the rate limit by door", async () => {
    expect((await api.query("accounts.list", {})).status).toBe(200)
    expect((await api.query("accounts.list", {})).status).toBe(429)
    expect((await api.rest("GET", "/v1/accounts")).status).toBe(429)
    const found = samples(await scrape(api.url))
    expect(found.get('txn_rate_limit_refusals_total{door="trpc"}')).toBe(1)
    expect(found.get('txn_rate_limit_refusals_total{door="rest"}')).toBe(1)
  })
})

describe("/metrics of the API started as npm start starts it", () => {
  let api: ApiProcess
  beforeAll(async () => {
    api = await startApiProcess()
    await api.waitFor("api listening")
  })
  afterAll(async () => {
    if (api?.proc.exitCode === null) {
      api.proc.kill("SIGTERM")
      await once(api.proc, "exit")
    }
  })

  it("counts this process's own database connections, named with its pid", async () => {
    const found = samples(await scrape(`http://127.0.0.1:${api.port}`))
    expect(found.get('txn_db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1)
    const { rows } = await import("pg").then(async ({ default: pg }) => {
      const client = new pg.Client({
        connectionString: process.env.DATABASE_DIRECT_URL ?? process.env.DATABASE_URL,
      })
      await client.connect()
      try {
        return await client.query(
          "select count(*)::int as n from pg_stat_activity where application_name = $1",
          [`txn-api-${api.proc.pid}`],
        )
      } finally {
        await client.end()
      }
    })
    expect(rows[0].n).toBeGreaterThanOrEqual(1)
  })
})
