import { randomUUID } from "node:crypto"
import { Validator } from "@seriousme/openapi-schema-validator"
import { Ajv2020 } from "ajv/dist/2020.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

describe("/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without a key", async () => {
    const response = await fetch(`${api.url}/openapi.json`)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("application/json")
    const document = (await response.json()) as Json
    expect(document.openapi).toMatch(/^3\.1\./)
    const result = await new Validator().validate(document)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it("documents bearer authentication and every error status with its tags", async () => {
    const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json
    expect(Object.values<Json>(document.components.securitySchemes)).toContainEqual(
      expect.objectContaining({ type: "http", scheme: expect.stringMatching(/^bearer$/i) }),
    )
    const create = document.paths["/v1/accounts"].post
    expect(create.security).toBeDefined()
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining([
        "201",
        "400",
        "401",
        "403",
        "409",
        "413",
        "422",
        "429",
        "500",
        "503",
      ]),
    )
  })

  it("gives every request body examples that its own schema accepts", async () => {
    const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    let bodies = 0
    for (const [path, operations] of Object.entries<Json>(document.paths)) {
      for (const [method, operation] of Object.entries<Json>(operations)) {
        const schema = operation.requestBody?.content["application/json"]?.schema
        if (schema === undefined) continue
        bodies++
        const where = `${method.toUpperCase()} ${path}`
        expect(schema.examples?.length ?? 0, `${where} has examples`).toBeGreaterThan(0)
        const validate = ajv.compile({ ...schema, components: document.components })
        for (const example of schema.examples) {
          expect(validate(example), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true)
        }
      }
    }
    expect(bodies).toBeGreaterThanOrEqual(12)
  })
})

describe("/openapi.json's answers", () => {
  it("shows an example of every successful JSON answer, each accepted by its schema", async () => {
    const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    const resolve = (schema: Json): Json =>
      typeof schema.$ref === "string"
        ? resolve(document.components.schemas[schema.$ref.split("/").at(-1)])
        : schema
    let answers = 0
    for (const [path, operations] of Object.entries<Json>(document.paths)) {
      for (const [method, operation] of Object.entries<Json>(operations)) {
        for (const [status, answer] of Object.entries<Json>(operation.responses)) {
          const schema = answer.content?.["application/json"]?.schema
          if (!status.startsWith("2") || schema === undefined) continue
          answers++
          const where = `${method.toUpperCase()} ${path} ${status}`
          const shown = resolve(schema)
          expect(shown.examples?.length ?? 0, `${where} has an example`).toBeGreaterThan(0)
          const validate = ajv.compile({ ...shown, components: document.components })
          for (const example of shown.examples) {
            expect(validate(example), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true)
          }
        }
      }
    }
    expect(answers).toBeGreaterThanOrEqual(29)
  })
})

describe("accounts over REST", () => {
  const open = (name: string, headers: Record<string, string> = {}) =>
    api.rest("POST", "/v1/accounts", { body: { name, currency: "EUR" }, headers })

  it("opens an account: 201 with its Location, then reads it there", async () => {
    const name = `REST ${randomUUID()}`
    const created = await open(name)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name, currency: "EUR", allowNegative: false })
    expect(created.headers.get("location")).toBe(`/v1/accounts/${created.body.id}`)
    expect(created.headers.get("idempotent-replayed")).toBeNull()
    expect(created.headers.get("ratelimit-remaining")).not.toBeNull()

    const read = await api.rest("GET", created.headers.get("location")!)
    expect(read.status).toBe(200)
    expect(read.body).toEqual(created.body)
  })

  it("answers a retry with the same Idempotency-Key with the first account, marked replayed", async () => {
    const key = randomUUID()
    const first = await open("Once", { "idempotency-key": key })
    const again = await open("Once", { "idempotency-key": key })
    expect(again.status).toBe(201)
    expect(again.body).toEqual(first.body)
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    const reused = await open("Something else", { "idempotency-key": key })
    expect(reused.status).toBe(422)
    expect(reused.body.error).toMatchObject({
      tag: "IdempotencyKeyReused",
      details: { idempotencyKey: key },
    })
  })

  it("is the same account through tRPC, and the same key replays across both doors", async () => {
    const key = randomUUID()
    const viaRest = await open("Both doors", { "idempotency-key": key })
    const viaTrpc = await api.mutate("accounts.create", {
      name: "Both doors",
      currency: "EUR",
      idempotencyKey: key,
    })
    expect(viaTrpc.body.result.data).toMatchObject({ id: viaRest.body.id, replayed: true })
    const got = await api.query("accounts.get", { id: viaRest.body.id })
    expect(got.body.result.data).toEqual(viaRest.body)
  })

  it("lists with the tRPC filters as query parameters, a page at a time", async () => {
    const currency = "JPY"
    for (const name of ["a", "b", "c"]) {
      expect((await api.rest("POST", "/v1/accounts", { body: { name, currency } })).status).toBe(
        201,
      )
    }
    const first = await api.rest("GET", `/v1/accounts?currency=${currency}&limit=2`)
    expect(first.status).toBe(200)
    expect(first.body.items.map((account: Json) => account.name)).toEqual(["c", "b"])
    expect(first.body.hasMore).toBe(true)
    const second = await api.rest(
      "GET",
      `/v1/accounts?currency=${currency}&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    )
    expect(second.body.items.map((account: Json) => account.name)).toEqual(["a"])
    expect(second.body.hasMore).toBe(false)
  })

  it("updates with PATCH and reads balances", async () => {
    const created = await open("Before")
    const updated = await api.rest("PATCH", `/v1/accounts/${created.body.id}`, {
      body: { name: "After", metadata: { note: "x" } },
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({
      id: created.body.id,
      name: "After",
      metadata: { note: "x" },
    })
    const balance = await api.rest("GET", `/v1/accounts/${created.body.id}/balance`)
    expect(balance.status).toBe(200)
    expect(balance.body).toEqual({
      accountId: created.body.id,
      currency: "EUR",
      posted: 0,
      pending: 0,
      available: 0,
      asOf: null,
    })
  })
})

describe("REST refusals", () => {
  it("answers bad input 400 ValidationError naming each field, from the body, query and path", async () => {
    const body = await api.rest("POST", "/v1/accounts", {
      body: { name: "", currency: "EURO", extra: 1 },
    })
    expect(body.status).toBe(400)
    expect(body.body.error.tag).toBe("ValidationError")
    expect(body.body.error.issues.map((issue: Json) => issue.path.join("."))).toEqual(
      expect.arrayContaining(["name", "currency", "extra"]),
    )
    const query = await api.rest("GET", "/v1/accounts?limit=0")
    expect(query.status).toBe(400)
    expect(query.body.error.issues.map((issue: Json) => issue.path.join("."))).toEqual(["limit"])
    const path = await api.rest("GET", "/v1/accounts/not-an-id")
    expect(path.status).toBe(400)
    expect(path.body.error.issues.map((issue: Json) => issue.path.join("."))).toEqual(["id"])
  })

  it("answers 404 NotFound for another user's account, as tRPC does", async () => {
    const other = await api.newUser()
    const theirs = await api.rest("POST", "/v1/accounts", {
      body: { name: "Theirs", currency: "EUR" },
      auth: other.key,
    })
    const read = await api.rest("GET", `/v1/accounts/${theirs.body.id}`)
    expect(read.status).toBe(404)
    expect(read.body.error).toMatchObject({ tag: "NotFound", requestId: expect.any(String) })
  })

  it("answers 401 without a key and 403 for a read-only key writing", async () => {
    const anonymous = await api.rest("GET", "/v1/accounts", { auth: null })
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.error.tag).toBe("Unauthorized")
    const reader = await api.newUser(["read"])
    const refused = await api.rest("POST", "/v1/accounts", {
      body: { name: "No", currency: "EUR" },
      auth: reader.key,
    })
    expect(refused.status).toBe(403)
    expect(refused.body.error).toMatchObject({
      tag: "Forbidden",
      details: { requiredScope: "write" },
    })
  })

  it("answers what is not JSON, or not sent as JSON, 400 naming the body or content-type", async () => {
    const send = (body: string, contentType?: string) =>
      fetch(`${api.url}/v1/accounts`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${api.key}`,
          ...(contentType === undefined ? {} : { "content-type": contentType }),
        },
        body,
      })
    const broken = await send("{", "application/json")
    expect(broken.status).toBe(400)
    expect(await broken.json()).toMatchObject({
      error: { tag: "ValidationError", message: "Invalid input: (body)" },
    })
    for (const contentType of [undefined, "text/plain", "application/x-www-form-urlencoded"]) {
      const response = await send('{"name":"a","currency":"EUR"}', contentType)
      expect(response.status, String(contentType)).toBe(400)
      expect(((await response.json()) as Json).error.issues).toEqual([
        {
          path: ["content-type"],
          message: "Send the body as JSON, with content-type: application/json",
        },
      ])
    }
    const array = await api.rest("POST", "/v1/accounts", { body: [] })
    expect(array.status).toBe(400)
  })

  it("names an unknown query parameter, a repeated one and a bad Idempotency-Key header", async () => {
    const unknown = await api.rest("GET", "/v1/accounts?bogus=1")
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.issues[0].path).toEqual(["bogus"])
    const twice = await api.rest("GET", "/v1/accounts?limit=5&limit=6")
    expect(twice.status).toBe(400)
    expect(twice.body.error.issues[0].path).toEqual(["limit"])
    for (const key of ["", "has space", "x".repeat(256)]) {
      const response = await api.rest("POST", "/v1/accounts", {
        body: { name: "a", currency: "EUR" },
        headers: { "idempotency-key": key },
      })
      expect(response.status, JSON.stringify(key)).toBe(400)
      expect(response.body.error.issues[0].path).toEqual(["idempotency-key"])
    }
  })

  it("answers a body over the limit 413 before reading on, and a query that is not UTF-8 400", async () => {
    const big = await api.rest("POST", "/v1/accounts", {
      body: { name: "x".repeat(1024 * 1024), currency: "EUR" },
    })
    expect(big.status).toBe(413)
    expect(big.body.error).toMatchObject({ tag: "PayloadTooLarge", details: { unit: "bytes" } })
    const badBytes = await api.rest("GET", "/v1/accounts?cursor=%E0%A4%A")
    expect(badBytes.status).toBe(400)
    expect(badBytes.body.error.issues[0].path).toEqual(["query"])
  })

  it("answers an unknown path or method under /v1 404 NotFound in the same shape", async () => {
    for (const [method, path] of [
      ["GET", "/v1/nothing"],
      ["DELETE", "/v1/accounts"],
      ["GET", "/v1/accounts/acc_%ZZ"],
    ] as const) {
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${api.key}` },
      })
      expect(response.status, `${method} ${path}`).toBe(404)
      expect(await response.json()).toEqual({
        error: {
          tag: "NotFound",
          message: `No route ${method} ${path}`,
          requestId: expect.any(String),
        },
      })
    }
  })
})
