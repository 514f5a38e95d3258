import { connect } from "node:net"
import { text } from "node:stream/consumers"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { appRouter } from "../src/router.ts"
import type { ProcedureMeta } from "../src/trpc.ts"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

interface ProcedureDef {
  readonly type: "query" | "mutation" | "subscription"
  readonly inputs: ReadonlyArray<unknown>
  readonly meta?: ProcedureMeta
}

// Every procedure of the router, so a new one is covered the moment it is added.
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>,
)

/** The top-level fields of a procedure's input schema (an Effect Struct, maybe `| undefined`). */
const fieldsOf = (schema: unknown): ReadonlyArray<string> => {
  const s = schema as { fields?: object; members?: ReadonlyArray<unknown> }
  if (s.fields !== undefined) return Object.keys(s.fields)
  return (s.members ?? []).flatMap(fieldsOf)
}

/** The top-level fields that hold numbers (`expectedVersion`, `limit`, ...). */
const numberFieldsOf = (schema: unknown): ReadonlyArray<string> => {
  const s = schema as {
    fields?: Record<string, { ast: { _tag: string } }>
    members?: ReadonlyArray<unknown>
  }
  if (s.fields !== undefined) {
    return Object.entries(s.fields).flatMap(([field, f]) =>
      f.ast._tag === "Number" ? [field] : [],
    )
  }
  return (s.members ?? []).flatMap(numberFieldsOf)
}

/** Whether a procedure's own input schema takes `input`. */
const accepts = async (schema: unknown, input: unknown) => {
  type Result = { readonly issues?: unknown }
  const standard = (
    schema as { "~standard": { validate: (v: unknown) => Result | Promise<Result> } }
  )["~standard"]
  return (await standard.validate(input)).issues === undefined
}

/** Calls a procedure as a caller allowed to: the admin token for admin ones, the user's key otherwise. */
const send = (path: string, def: ProcedureDef, input: unknown) =>
  api.call(path, input, {
    method: def.type === "mutation" ? "POST" : "GET",
    auth: def.meta?.scope === "admin" ? api.adminToken : api.key,
  })

const expectValidationError = (response: { status: number; body: Json }) => {
  expect(response.status).toBe(400)
  expect(response.body.error.data.tag).toBe("ValidationError")
  expect(response.body.error.data.issues.length).toBeGreaterThan(0)
}

describe("every procedure answers malformed input with a typed 400", () => {
  it("covers every procedure of the router", () => {
    expect(procedures.map(([path]) => path).sort()).toEqual([
      "accounts.balance",
      "accounts.create",
      "accounts.get",
      "accounts.list",
      "accounts.update",
      "admin.apiKeys.create",
      "admin.apiKeys.list",
      "admin.apiKeys.revoke",
      "admin.users.create",
      "exports.create",
      "exports.get",
      "tokens.create",
      "transactions.changes",
      "transactions.create",
      "transactions.createMany",
      "transactions.get",
      "transactions.history",
      "transactions.list",
      "transactions.live",
      "transactions.post",
      "transactions.reverse",
      "transactions.summary",
      "transactions.update",
      "transactions.void",
      "transfers.create",
      "transfers.get",
      "webhooks.create",
      "webhooks.delete",
      "webhooks.deliveries",
      "webhooks.list",
      "webhooks.update",
    ])
  })

  for (const [path, { _def }] of procedures) {
    const fields = fieldsOf(_def.inputs[0])
    const numberFields = numberFieldsOf(_def.inputs[0])

    it(`${path}: names every field when all of them are wrong`, async () => {
      expect(fields.length).toBeGreaterThan(0)
      const input = Object.fromEntries(fields.map((field) => [field, { not: ["valid"] }]))
      const response = await send(path, _def, input)
      expectValidationError(response)
      const named = new Set(
        response.body.error.data.issues.map((issue: { path: Array<string> }) => issue.path[0]),
      )
      expect([...named].sort()).toEqual([...fields].sort())
      for (const field of fields) expect(response.body.error.message).toContain(field)
    })

    it(`${path}: rejects unknown fields by name`, async () => {
      const response = await send(path, _def, { surprise: 1 })
      expectValidationError(response)
      expect(response.body.error.data.issues).toContainEqual({
        path: ["surprise"],
        message: "Expected no excess property",
      })
    })

    it(`${path}: rejects inputs that are not objects`, async () => {
      for (const input of ["text", 42, [], true, null]) {
        expectValidationError(await send(path, _def, input))
      }
    })

    it(`${path}: rejects integers beyond 2^53-1, negative zero, NaN and floats in number fields`, async () => {
      for (const value of [2 ** 53, 1e300, -0, 1.5, -1]) {
        const input = Object.fromEntries(fields.map((field) => [field, value]))
        const response = await send(path, _def, input)
        expectValidationError(response)
      }
      // Numbers sent as strings are wrong in every number field. A procedure whose fields are all
      // text (admin.users.create) rightly takes "1" as a name: its own schema says which.
      for (const value of ["NaN", "1"]) {
        const input = Object.fromEntries(fields.map((field) => [field, value]))
        const response = await send(path, _def, input)
        if (numberFields.length === 0 && (await accepts(_def.inputs[0], input))) {
          expect(response.status).toBe(200)
          continue
        }
        expectValidationError(response)
        const named = response.body.error.data.issues.map((i: { path: Array<string> }) => i.path[0])
        for (const field of numberFields) expect(named).toContain(field)
      }
    })

    it(`${path}: never answers generated JSON, strings or huge values with a 500`, async () => {
      const value = fc.oneof(
        fc.jsonValue(),
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.integer(),
        fc.double(),
        fc.string({ minLength: 5_000, maxLength: 20_000 }),
      )
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(fc.constantFrom(...fields, "extra"), value, { maxKeys: fields.length + 1 }),
          async (input) => {
            const response = await send(path, _def, input)
            expect(response.status).toBeLessThan(500)
            expect(response.status).toBeGreaterThanOrEqual(200)
            if (response.status >= 400) {
              // Errors Node's HTTP parser raises (URL over 16 KiB) carry the tag outside `data`.
              // A generated key can come back with another body (exports.create accepts `{}`).
              expect(response.body.error.data?.tag ?? response.body.error.tag).toMatch(
                /^(ValidationError|NotFound|CurrencyMismatch|VersionConflict|PayloadTooLarge|IdempotencyKeyReused)$/,
              )
            }
          },
        ),
        { numRuns: 60 },
      )
    })
  }
})

describe("malformed requests", () => {
  it("answers a body that is not JSON with a ValidationError", async () => {
    const response = await fetch(`${api.url}/trpc/accounts.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${api.key}` },
      body: "{not json",
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as Json).error.data.tag).toBe("ValidationError")
  })

  it("answers a body over 1 MiB with 413 PayloadTooLarge", async () => {
    const response = await fetch(`${api.url}/trpc/accounts.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${api.key}` },
      body: JSON.stringify({ name: "x".repeat(1024 * 1024 + 1), currency: "USD" }),
    })
    expect(response.status).toBe(413)
    expect(((await response.json()) as Json).error.data.tag).toBe("PayloadTooLarge")
  })

  it("answers an unknown procedure with 404 NotFound", async () => {
    const response = await api.call("accounts.destroy", {})
    expect(response.status).toBe(404)
    expect(response.body.error.data.tag).toBe("NotFound")
  })

  it("answers an unknown path with a JSON 404", async () => {
    const response = await fetch(`${api.url}/nowhere`)
    expect(response.status).toBe(404)
    expect(((await response.json()) as Json).error.tag).toBe("NotFound")
  })

  it("answers a URL over 16 KiB with a JSON 431 PayloadTooLarge", async () => {
    const response = await api.query("accounts.list", { cursor: "c".repeat(20_000) })
    expect(response.status).toBe(431)
    expect(response.body.error.tag).toBe("PayloadTooLarge")
  })

  it("answers broken HTTP with a JSON 400", async () => {
    const { port } = new URL(api.url)
    const socket = connect(Number(port), "127.0.0.1")
    socket.end("NONSENSE / HTTP/9\r\n\r\n")
    const [raw] = (await Promise.all([text(socket)])) as [string]
    expect(raw).toMatch(/^HTTP\/1\.1 400 /)
    expect(JSON.parse(raw.split("\r\n\r\n")[1] ?? "").error.tag).toBe("ValidationError")
  })

  it("accepts a query sent as POST, for inputs too long for a URL", async () => {
    const response = await api.call("accounts.list", { limit: 1 })
    expect(response.status).toBe(200)
    expect(response.body.result.data.items).toBeInstanceOf(Array)
  })

  it("answers a mutation sent as GET with 405 MethodNotAllowed and Allow: POST", async () => {
    const response = await api.call(
      "accounts.create",
      { name: "A", currency: "USD" },
      { method: "GET" },
    )
    expect(response.status).toBe(405)
    expect(response.headers.get("allow")).toBe("POST")
    expect(response.body.error.data).toMatchObject({ tag: "MethodNotAllowed", httpStatus: 405 })
  })
})
