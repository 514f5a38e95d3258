import { randomUUID } from "node:crypto"
import { PgOutbox } from "@txn/db"
import {
  Actor,
  Cursor,
  encodeCursor,
  eventTypes,
  Timestamp,
  type TransactionId,
  TransactionRepository,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { appRouter } from "../src/router.ts"
import type { ProcedureMeta } from "../src/trpc.ts"
import { createAccount, type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
/** Where hostile text is stored and read back. */
let accountId: string
/** Where every request is meant to be refused: it must stay empty. */
let untouchedAccountId: string
/** A transaction updated over and over. */
let updatedId: string

beforeAll(async () => {
  api = await startTestApi()
  accountId = (await createAccount(api, { name: "Hostile text" })).id
  untouchedAccountId = (await createAccount(api, { name: "Refused requests" })).id
  updatedId = (
    await api.mutate("transactions.create", {
      accountId,
      direction: "credit",
      amount: 1,
      currency: "USD",
    })
  ).body.result.data.id
})
afterAll(() => api.close())

/** A POST of exactly this body text: raw JSON reaches the server as written (1e400, -0). */
const postRaw = async (path: string, body: string) => {
  const response = await fetch(`${api.url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${api.key}` },
    body,
  })
  return { status: response.status, body: (await response.json()) as Json }
}

const runs = { numRuns: 50 }

const sqlFragments = [
  "'; drop table transactions; --",
  "' or '1'='1",
  '" or ""="',
  "1; select pg_sleep(10)",
  "'||(select version())||'",
  "$1",
  "$$ $$",
  "%_%",
  "\\",
  "\\x00",
  "\\u0000",
  "E'\\n'",
  "/* */ --",
  "::jsonb",
  '{"a":1}',
  "null",
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style payload, as text on purpose
  "${jndi:ldap://x}",
  "__proto__",
  "constructor",
]
const marks = [
  "\u200e", // left-to-right mark
  "\u200f", // right-to-left mark
  "\u202e", // right-to-left override
  "\u2066",
  "\u2069",
  "\u061c", // Arabic letter mark
  "\ufeff", // byte order mark
  "\u200b",
  "\u200d",
  "\u0301", // a combining accent with nothing to combine with
  "\ufffd",
  "\ufffe",
  "\uffff",
  "\u2028",
  "\u2029",
  "שלום עולם",
  "مرحبا",
]
const emoji = ["👩‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "👍🏽", "😀", "𝕏", "\u{10ffff}", "\u{e0001}", "é"]
/** Control characters other than NUL: C0, DEL, C1. */
const control = fc
  .oneof(fc.integer({ min: 1, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f }))
  .map((code) => String.fromCharCode(code))

const piece = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.constantFrom(...sqlFragments, ...marks, ...emoji),
  control,
)

/** Cuts whole code points off the end, never half a surrogate pair. */
const fitTo = (text: string, maxLength: number) => {
  const points = Array.from(text)
  while (points.join("").length > maxLength) points.pop()
  return points.join("")
}

/**
 * @effect/sql-pg 4.0.5 (the latest) reads a text value holding U+FFFD with a TextDecoder that
 * drops a leading byte order mark; that one case has its own test below.
 */
const losesLeadingBom = (text: string) => text.startsWith("\ufeff") && text.includes("\ufffd")

/**
 * Any text PostgreSQL can hold (no NUL) of 1 to `maxLength` UTF-16 units, the unit the limits
 * count; sometimes filled to exactly the limit.
 */
const hostileText = (maxLength: number) =>
  fc
    .tuple(fc.array(piece, { minLength: 1, maxLength: 10 }), fc.boolean())
    .map(([pieces, fill]) => {
      const text = fitTo(pieces.join("").replaceAll("\u0000", ""), maxLength) || "'"
      return fill ? text + "'".repeat(maxLength - text.length) : text
    })
    .filter((text) => !losesLeadingBom(text))

/** Names need something other than white space. */
const hostileName = hostileText(200).map((text) =>
  text.trim() === "" ? `n${text.slice(1)}` : text,
)

const metadataKey = fc.oneof(
  hostileText(40),
  fc.constantFrom("__proto__", "constructor", "toString", "order_id", "Order_ID", "a_b", "_x_"),
)
/** At most a few pairs; the key is kept whatever it spells, `__proto__` included. */
const hostileMetadata = fc
  .uniqueArray(fc.tuple(metadataKey, hostileText(500)), {
    selector: ([key]) => key,
    maxLength: 6,
  })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>)

/** Key order is PostgreSQL's business (jsonb sorts keys); keys and values must be exact. */
const entriesOf = (metadata: Record<string, string>) =>
  Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const expectFieldNamed = (response: { status: number; body: Json }, field: string) => {
  expect(response.status).toBe(400)
  expect(response.body.error.data.tag).toBe("ValidationError")
  const issues: Array<{ path: Array<string | number> }> = response.body.error.data.issues
  expect(issues.length).toBeGreaterThan(0)
  expect(issues.map((issue) => issue.path[0])).toEqual(issues.map(() => field))
  expect(response.body.error.message).toContain(field)
}

describe("hostile text is stored and returned verbatim", () => {
  it("in a transaction's description, category, counterparty, reference and metadata", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          description: hostileText(1000),
          category: hostileText(100),
          counterparty: hostileText(200),
          reference: hostileText(200),
          metadata: hostileMetadata,
        }),
        async (text) => {
          const created = await api.mutate("transactions.create", {
            accountId,
            direction: "credit",
            amount: 1,
            currency: "USD",
            ...text,
          })
          expect(created.status).toBe(200)
          const read = await api.query("transactions.get", { id: created.body.result.data.id })
          expect(read.status).toBe(200)
          for (const stored of [created.body.result.data, read.body.result.data]) {
            expect(stored).toMatchObject({
              description: text.description,
              category: text.category,
              counterparty: text.counterparty,
              reference: text.reference,
            })
            expect(entriesOf(stored.metadata)).toEqual(entriesOf(text.metadata))
          }
        },
      ),
      runs,
    )
  })

  it("in a transaction update", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          description: hostileText(1000),
          category: hostileText(100),
          counterparty: hostileText(200),
          reference: hostileText(200),
          metadata: hostileMetadata,
        }),
        async (text) => {
          const before = await api.query("transactions.get", { id: updatedId })
          const expectedVersion: number = before.body.result.data.version
          const updated = await api.mutate("transactions.update", {
            id: updatedId,
            expectedVersion,
            ...text,
          })
          expect(updated.status).toBe(200)
          const read = (await api.query("transactions.get", { id: updatedId })).body.result.data
          expect(read).toMatchObject({
            version: expectedVersion + 1,
            description: text.description,
            category: text.category,
            counterparty: text.counterparty,
            reference: text.reference,
          })
          expect(entriesOf(read.metadata)).toEqual(entriesOf(text.metadata))
        },
      ),
      runs,
    )
  })

  it("in an account's name and metadata", async () => {
    await fc.assert(
      fc.asyncProperty(hostileName, hostileMetadata, async (name, metadata) => {
        const created = await api.mutate("accounts.create", { name, currency: "EUR", metadata })
        expect(created.status).toBe(200)
        const read = await api.query("accounts.get", { id: created.body.result.data.id })
        for (const stored of [created.body.result.data, read.body.result.data]) {
          expect(stored.name).toBe(name)
          expect(entriesOf(stored.metadata)).toEqual(entriesOf(metadata))
        }
      }),
      runs,
    )
  })
})

describe("a known defect of the PostgreSQL driver", () => {
  // @effect/sql-pg 4.0.5 decodes such a value with a TextDecoder that strips a leading U+FEFF:
  // the row holds the text, every read loses its first character. Pinned exactly, so that a fix
  // of the driver (or any other failure) makes this test fail: then expect the text verbatim
  // here and drop `losesLeadingBom` above.
  it("drops a leading byte order mark on reading text that also holds U+FFFD", async () => {
    const text = "\ufeffbefore \ufffd after"
    const created = await api.mutate("transactions.create", {
      accountId,
      direction: "credit",
      amount: 1,
      currency: "USD",
      description: text,
    })
    expect(created.status).toBe(200)
    const id: string = created.body.result.data.id
    const [row] = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly verbatim: boolean }>`
          select description = ${text} as verbatim from transactions where id = ${id}`,
      ),
    )
    expect(row?.verbatim).toBe(true)
    const read = await api.query("transactions.get", { id })
    expect(read.status).toBe(200)
    for (const answer of [created.body.result.data, read.body.result.data]) {
      expect(answer.description).toBe(text.slice(1))
    }
  })
})

/** Where a text field sits in which request, and the input that puts `text` there. */
interface TextField {
  readonly path: string
  readonly field: string
  readonly maxLength: number
  readonly input: (text: string) => unknown
}

const transactionWith = (fields: Record<string, unknown>) => ({
  accountId: untouchedAccountId,
  direction: "credit",
  amount: 1,
  currency: "USD",
  ...fields,
})

const textFields: ReadonlyArray<TextField> = [
  ...(
    [
      ["description", 1000],
      ["category", 100],
      ["counterparty", 200],
      ["reference", 200],
    ] as const
  ).flatMap(([field, maxLength]) => [
    {
      path: "transactions.create",
      field,
      maxLength,
      input: (text: string) => transactionWith({ [field]: text }),
    },
    {
      path: "transactions.update",
      field,
      maxLength,
      input: (text: string) => ({ id: updatedId, expectedVersion: 1, [field]: text }),
    },
  ]),
  {
    path: "transactions.create",
    field: "metadata",
    maxLength: 500,
    input: (text) => transactionWith({ metadata: { note: text } }),
  },
  {
    path: "transactions.create",
    field: "metadata",
    maxLength: 40,
    input: (text) => transactionWith({ metadata: { [text]: "value" } }),
  },
  {
    path: "accounts.create",
    field: "name",
    maxLength: 200,
    input: (text) => ({ name: `n${text}`, currency: "GBP" }),
  },
  {
    path: "accounts.create",
    field: "metadata",
    maxLength: 500,
    input: (text) => ({ name: "n", currency: "GBP", metadata: { note: text } }),
  },
  {
    path: "transactions.list",
    field: "search",
    maxLength: 200,
    input: (text) => ({ search: text }),
  },
  {
    path: "transactions.list",
    field: "category",
    maxLength: 100,
    input: (text) => ({ category: text }),
  },
]

/** A NUL, or half a surrogate pair that nothing can complete. */
const unstorable = fc.oneof(
  fc.constant("\u0000"),
  fc.integer({ min: 0xd800, max: 0xdbff }).map((code) => `${String.fromCharCode(code)}x`),
  fc.integer({ min: 0xdc00, max: 0xdfff }).map((code) => `x${String.fromCharCode(code)}`),
)

const send = (path: string, input: unknown) =>
  api.call(path, input, path === "transactions.list" ? { method: "GET" } : {})

describe("text that cannot be stored verbatim is refused with 400 naming the field", () => {
  it("rejects NUL characters and lone surrogates", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...textFields),
        hostileText(30),
        unstorable,
        fc.nat(),
        async (target, text, bad, at) => {
          // Inserted between code points, so the bad character is the only thing wrong.
          const points = Array.from(text)
          points.splice(at % (points.length + 1), 0, bad)
          const value = points.join("")
          expect(value.length).toBeLessThanOrEqual(target.maxLength)
          expectFieldNamed(await send(target.path, target.input(value)), target.field)
        },
      ),
      runs,
    )
  })

  it("rejects text one or more units over the field's maximum", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...textFields),
        hostileText(1000),
        fc.integer({ min: 1, max: 100 }),
        async (target, text, over) => {
          const length = target.maxLength + over
          const fitted = fitTo(text, length)
          const value = fitted + "x".repeat(length - fitted.length)
          expect(value.length).toBe(length)
          expectFieldNamed(await send(target.path, target.input(value)), target.field)
        },
      ),
      runs,
    )
  })

  it("stored nothing while refusing", async () => {
    const listed = await api.query("transactions.list", { accountId: untouchedAccountId })
    expect(listed.body.result.data.items).toEqual([])
  })
})

/** Number literals as they appear in a request body, none of them an integer a field accepts. */
const badNumberLiteral = fc.oneof(
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }).map((n) => `${n}`),
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }).map((n) => `-${n}`),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((x) => !Number.isInteger(x))
    .map((x) => JSON.stringify(x)),
  fc.constantFrom(
    "9007199254740992",
    "9007199254740993",
    "1e16",
    "1e400",
    "-1e400",
    "1.5",
    "0.1",
    "1.0000001",
    "5e-324",
    '"NaN"',
    '"Infinity"',
    '"-Infinity"',
    '"1e400"',
    '"42"',
    "true",
    "null",
    "[1]",
    '{"value":1}',
  ),
)

interface NumberField {
  readonly path: string
  readonly field: string
  /** The body with `@` where the number goes. */
  readonly template: () => string
}

const numberFields: ReadonlyArray<NumberField> = [
  {
    path: "transactions.create",
    field: "amount",
    template: () =>
      `{"accountId":"${untouchedAccountId}","direction":"credit","amount":@,"currency":"USD"}`,
  },
  { path: "transactions.list", field: "limit", template: () => `{"limit":@}` },
  { path: "accounts.list", field: "limit", template: () => `{"limit":@}` },
  {
    path: "transactions.update",
    field: "expectedVersion",
    template: () => `{"id":"${updatedId}","expectedVersion":@,"description":"d"}`,
  },
  { path: "transactions.list", field: "minAmount", template: () => `{"minAmount":@}` },
  { path: "transactions.list", field: "maxAmount", template: () => `{"maxAmount":@}` },
]

describe("numbers that are not safe integers are refused with 400 naming the field", () => {
  it("rejects integers beyond 2^53-1, infinities, floats and numbers sent as strings", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...numberFields),
        badNumberLiteral,
        async (target, literal) => {
          const response = await postRaw(target.path, target.template().replace("@", literal))
          expectFieldNamed(response, target.field)
        },
      ),
      { numRuns: 100 },
    )
  })

  it("rejects negative zero where the field must be positive", async () => {
    for (const target of numberFields.filter((t) => !/^(min|max)Amount$/.test(t.field))) {
      expectFieldNamed(
        await postRaw(target.path, target.template().replace("@", "-0")),
        target.field,
      )
    }
  })

  it("treats negative zero in an amount filter exactly as zero", async () => {
    for (const field of ["minAmount", "maxAmount"]) {
      const zero = await postRaw("transactions.list", `{"${field}":0,"accountId":"${accountId}"}`)
      const negativeZero = await postRaw(
        "transactions.list",
        `{"${field}":-0,"accountId":"${accountId}"}`,
      )
      expect(zero.status).toBe(200)
      expect(negativeZero.body.result.data.items.map((t: { id: string }) => t.id)).toEqual(
        zero.body.result.data.items.map((t: { id: string }) => t.id),
      )
    }
  })
})

const nested = (depth: number, open: string, close: string, inner: string) =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`

describe("deeply nested and huge JSON", () => {
  const deepObject = nested(10_000, '{"a":', "}", "1")
  const deepArray = nested(100_000, "[", "]", "1")
  const hugeArray = `[${Array.from({ length: 200_000 }, () => '"x"').join(",")}]`
  const manyKeys = `{${Array.from({ length: 40_000 }, (_, i) => `"k${i}":"v"`).join(",")}}`
  const bodies: ReadonlyArray<readonly [string, string, string]> = [
    ["accounts.create", "a 10,000-level object as the input", deepObject],
    ["accounts.create", "a 100,000-level array as the input", deepArray],
    ["accounts.create", "a 200,000-element array as the input", hugeArray],
    [
      "accounts.create",
      "a 10,000-level object as metadata",
      `{"name":"n","currency":"USD","metadata":${deepObject}}`,
    ],
    [
      "transactions.create",
      "a 100,000-level array as the amount",
      `{"accountId":"acc","direction":"credit","amount":${deepArray},"currency":"USD"}`,
    ],
    ["transactions.create", "a 200,000-element array as metadata", `{"metadata":${hugeArray}}`],
    [
      "accounts.create",
      "40,000 metadata keys",
      `{"name":"n","currency":"USD","metadata":${manyKeys}}`,
    ],
    ["transactions.list", "a 200,000-element array as the search text", `{"search":${hugeArray}}`],
    [
      "transactions.update",
      "a 10,000-level object as the description",
      `{"id":"x","expectedVersion":1,"description":${deepObject}}`,
    ],
  ]

  for (const [path, what, body] of bodies) {
    it(`answers ${what} to ${path} with 400, not 500`, async () => {
      expect(body.length).toBeLessThan(1024 * 1024)
      const response = await postRaw(path, body)
      expect(response.status).toBe(400)
      expect(response.body.error.data.tag).toBe("ValidationError")
    })
  }

  it("answers a batch whose every input is deeply nested with 400s, not 500", async () => {
    const calls = Array.from({ length: 20 }, () => "accounts.create").join(",")
    const inputs = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i, "@"]))
    const body = JSON.stringify(inputs).replaceAll('"@"', nested(2_000, '{"a":', "}", "1"))
    const response = await postRaw(`${calls}?batch=1`, body)
    expect(response.status).toBe(400)
    for (const item of response.body as Array<Json>) {
      expect(item.error.data).toMatchObject({ tag: "ValidationError", httpStatus: 400 })
    }
  })

  it("answers a huge array over 1 MiB with 413 PayloadTooLarge", async () => {
    const body = `[${Array.from({ length: 400_000 }, () => '"x"').join(",")}]`
    expect(body.length).toBeGreaterThan(1024 * 1024)
    const response = await postRaw("accounts.create", body)
    expect(response.status).toBe(413)
    expect(response.body.error.data.tag).toBe("PayloadTooLarge")
  })

  it("still answers afterwards", async () => {
    expect((await api.query("accounts.get", { id: accountId })).status).toBe(200)
  })
})

interface ProcedureDef {
  readonly type: "query" | "mutation" | "subscription"
  readonly inputs: ReadonlyArray<unknown>
  readonly meta?: ProcedureMeta
}

// Every procedure of the router, so a new one is covered the moment it is added.
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>,
).map(([path, { _def }]) => ({ path, def: _def }))

/** Calls a procedure as its callers do: queries by GET, admin ones with the admin token. */
const invoke = (path: string, input: unknown) => {
  const def = procedures.find((procedure) => procedure.path === path)?.def
  if (def === undefined) throw new Error(`No procedure ${path}`)
  return api.call(path, input, {
    method: def.type === "mutation" ? "POST" : "GET",
    auth: def.meta?.scope === "admin" ? api.adminToken : api.key,
  })
}

/** The top-level fields of an input schema (an Effect Struct, maybe `| undefined`) of `type`. */
const fieldsOfType = (input: unknown, type: unknown): ReadonlyArray<string> => {
  const s = input as {
    fields?: Record<string, { schema?: unknown }>
    members?: ReadonlyArray<unknown>
  }
  if (s.fields !== undefined) {
    return Object.entries(s.fields).flatMap(([field, schema]) =>
      schema === type || schema.schema === type ? [field] : [],
    )
  }
  return (s.members ?? []).flatMap((member) => fieldsOfType(member, type))
}

/** Every procedure input of `type`, as `{ path, field }`. */
const inputsOfType = (type: unknown) =>
  procedures.flatMap(({ path, def }) =>
    fieldsOfType(def.inputs[0], type).map((field) => ({ path, field })),
  )

const ok = (response: { status: number; body: Json }, what: string): Json => {
  expect({ what, status: response.status, error: response.body.error?.message ?? null }).toEqual({
    what,
    status: 200,
    error: null,
  })
  return response.body.result.data
}

/** The typed refusals a valid request may still meet (a debit too large, a sum too large). */
const typedRefusal =
  /^(ValidationError|NotFound|VersionConflict|InvalidStateTransition|InsufficientFunds|CurrencyMismatch|BalanceLimitExceeded)$/

const expectSuccessOrTypedRefusal = (response: { status: number; body: Json }, what: string) => {
  if (response.status === 200) return
  expect(response.status, what).toBeGreaterThanOrEqual(400)
  expect(response.status, what).toBeLessThan(500)
  expect(response.body.error.data.tag, what).toMatch(typedRefusal)
}

/** A 400 whose issues name exactly `fields`. */
const expectFieldsNamed = (response: { status: number; body: Json }, fields: Array<string>) => {
  expect(response.status).toBe(400)
  expect(response.body.error.data.tag).toBe("ValidationError")
  const issues: Array<{ path: Array<string | number> }> = response.body.error.data.issues
  expect([...new Set(issues.map((issue) => issue.path[0]))].sort()).toEqual([...fields].sort())
}

// What the API promises to keep exactly, written here rather than taken from its code: instants
// from the first millisecond of year 1000 to the last of year 9999 in UTC, to the millisecond.
const earliestMs = Date.UTC(1000, 0, 1)
const latestMs = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** A time as a client writes it, and the instant it names in microseconds since 1970. */
interface WrittenTime {
  readonly text: string
  readonly micros: bigint
}

const isKept = (time: WrittenTime) =>
  time.micros % 1000n === 0n &&
  time.micros >= BigInt(earliestMs) * 1000n &&
  time.micros <= BigInt(latestMs) * 1000n

const utcOf = (time: WrittenTime) => new Date(Number(time.micros / 1000n)).toISOString()

const two = (n: number) => String(n).padStart(2, "0")
const edgeOr = (edges: ReadonlyArray<number>, max: number) =>
  fc.oneof(fc.constantFrom(...edges), fc.integer({ min: 0, max }))

const offsetText = (minutes: number) =>
  `${minutes < 0 ? "-" : "+"}${two(Math.floor(Math.abs(minutes) / 60))}:${two(Math.abs(minutes) % 60)}`

/** Written field by field in the first or last two days the format allows (years 1000, 9999). */
const writtenAtEdge = (ends: ReadonlyArray<"first" | "last">) =>
  fc
    .record({
      end: fc.constantFrom(...ends),
      day: edgeOr([0], 1),
      hour: edgeOr([0, 23], 23),
      minute: edgeOr([0, 59], 59),
      second: fc.option(edgeOr([0, 59], 59), { nil: undefined }),
      fraction: fc.oneof(
        fc.constantFrom("", ".0", ".999", ".999000", ".999999", ".000001", ".0005"),
        fc.stringMatching(/^\.\d{1,3}$/),
        fc.stringMatching(/^\.\d{3}000$/),
        fc.stringMatching(/^\.\d{4,6}$/),
      ),
      zone: fc.oneof(
        fc.constantFrom("Z", "+00:00", "-00:00"),
        edgeOr([959], 959).chain((minutes) => fc.constantFrom(minutes, -minutes).map(offsetText)),
      ),
    })
    .map(({ end, day, hour, minute, second, fraction, zone }): WrittenTime => {
      const [year, month, date] = end === "first" ? [1000, 1, 1 + day] : [9999, 12, 31 - day]
      const digits = second === undefined ? "" : fraction
      const seconds = second === undefined ? "" : `:${two(second)}${digits}`
      const text = `${year}-${two(month)}-${two(date)}T${two(hour)}:${two(minute)}${seconds}${zone}`
      const offsetMinutes =
        zone === "Z"
          ? 0
          : (zone.startsWith("-") ? -1 : 1) *
            (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)))
      const wall =
        BigInt(Date.UTC(year, month - 1, date, hour, minute, second ?? 0)) * 1000n +
        BigInt(digits.slice(1).padEnd(6, "0"))
      return { text, micros: wall - BigInt(offsetMinutes) * 60_000_000n }
    })

/** An instant up to 16 hours either side of the first or last one kept, at any offset. */
const instantNearEdge = (ends: ReadonlyArray<"first" | "last">) =>
  fc
    .record({
      end: fc.constantFrom(...ends),
      deltaMs: fc.oneof(
        fc.constantFrom(0, -1, 1),
        fc.integer({ min: -16 * 3_600_000, max: 16 * 3_600_000 }),
      ),
      offsetMinutes: edgeOr([959, -959, 0], 959).chain((m) => fc.constantFrom(m, -m)),
      extraMicros: fc.constantFrom(0, 0, 0, 1, 500, 999),
    })
    .map(({ end, deltaMs, offsetMinutes, extraMicros }) => {
      const utcMs = (end === "first" ? earliestMs : latestMs) + deltaMs
      const wall = new Date(utcMs + offsetMinutes * 60_000).toISOString()
      const zone = offsetMinutes === 0 ? "Z" : offsetText(offsetMinutes)
      const micros = extraMicros === 0 ? "" : String(extraMicros).padStart(3, "0")
      return {
        wallMs: utcMs + offsetMinutes * 60_000,
        time: {
          text: `${wall.slice(0, 23)}${micros}${zone}`,
          micros: BigInt(utcMs) * 1000n + BigInt(extraMicros),
        },
      }
    })
    // Only what the format can write: a year of four digits from 1000.
    .filter(({ wallMs }) => wallMs >= earliestMs && wallMs <= latestMs)
    .map(({ time }) => time)

/**
 * Times at the edges of what the format allows, at offsets up to ±15:59 or as Z, +00:00, -00:00,
 * without seconds or with up to 6 fractional digits. Many lie outside years 1000 to 9999 in UTC,
 * or name a fraction of a millisecond.
 */
const edgeTime = (ends: ReadonlyArray<"first" | "last"> = ["first", "last"]) =>
  fc.oneof(writtenAtEdge(ends), instantNearEdge(ends))

/** Characters of one to eleven UTF-16 units and one to four UTF-8 bytes each, astral ones too. */
const wideCharacters = [
  "a",
  "é",
  "ß",
  "Ж",
  "ש",
  "م",
  "中",
  "€",
  "😀",
  "𝕏",
  "\u{10ffff}",
  "\u{e0001}",
  "👍🏽",
  "👩‍👩‍👧‍👦",
  "'",
  '"',
  "\\",
  "\u0301",
  "\u202e",
]

/** Text of exactly `length` UTF-16 units (what the limits count), mostly multi-byte characters. */
const longestText = (length: number) =>
  fc.array(fc.constantFrom(...wideCharacters), { minLength: 1, maxLength: 30 }).map((motif) => {
    const unit = motif.join("")
    const text = fitTo(unit.repeat(Math.ceil(length / unit.length)), length)
    return text + "é".repeat(length - text.length)
  })

/** The most metadata a record takes: 50 keys of 40 units, each with a value of 500 units. */
const mostMetadata = fc
  .tuple(longestText(38), longestText(500))
  .map(([key, value]) =>
    Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${two(i)}${key}`, value])),
  )

const largestAmount = fc.oneof(
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.integer({ min: Number.MAX_SAFE_INTEGER - 1_000_000, max: Number.MAX_SAFE_INTEGER }),
  fc.constant(1),
)
const currency = fc.constantFrom("USD", "JPY", "KWD")
const limit = fc.constantFrom(1, 200)

/** A URL of exactly `length` characters; these tests run no worker, so nothing is ever sent to it. */
const longestUrl = (length: number) =>
  fc
    .array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-._~"), {
      minLength: 1,
      maxLength: 20,
    })
    .map((motif) => {
      const fill = motif.join("").repeat(length)
      return `https://hooks.example.com/${fill}`.slice(0, length)
    })

/** A new account, so each case starts from zero: one large amount per account cannot pass a limit. */
const freshAccount = async (currencyCode: string, allowNegative = false) =>
  ok(
    await invoke("accounts.create", { name: "Extreme", currency: currencyCode, allowNegative }),
    "accounts.create",
  ).id as string

const balanceOf = async (id: string) =>
  ok(await invoke("accounts.balance", { id }), "accounts.balance")

const expectMetadata = (stored: Json, sent: Record<string, string>) =>
  expect(entriesOf(stored.metadata)).toEqual(entriesOf(sent))

/** A property over `params`, calling `covers` (the procedures it vouches for) with them. */
const scenario = <P>(
  name: string,
  covers: ReadonlyArray<string>,
  params: fc.Arbitrary<P>,
  run: (params: P) => Promise<void>,
  numRuns = 30,
) => ({ name, covers, assert: () => fc.assert(fc.asyncProperty(params, run), { numRuns }) })

const scenarios = [
  scenario(
    "an account with the longest name and the most metadata, changed and listed",
    ["accounts.create", "accounts.get", "accounts.update", "accounts.list"],
    fc.record({
      name: longestText(200),
      renamed: longestText(200),
      currency,
      allowNegative: fc.boolean(),
      metadata: mostMetadata,
      newMetadata: mostMetadata,
      limit,
    }),
    async (p) => {
      const sent = { name: p.name, currency: p.currency, allowNegative: p.allowNegative }
      const idempotencyKey = `${randomUUID()}${"~".repeat(255)}`.slice(0, 255)
      const created = ok(
        await invoke("accounts.create", { idempotencyKey, ...sent, metadata: p.metadata }),
        "accounts.create",
      )
      for (const stored of [created, ok(await invoke("accounts.get", { id: created.id }), "get")]) {
        expect(stored).toMatchObject(sent)
        expectMetadata(stored, p.metadata)
      }
      const changed = { name: p.renamed, allowNegative: !p.allowNegative }
      const updated = ok(
        await invoke("accounts.update", { id: created.id, ...changed, metadata: p.newMetadata }),
        "accounts.update",
      )
      for (const stored of [updated, ok(await invoke("accounts.get", { id: created.id }), "get")]) {
        expect(stored).toMatchObject({ ...sent, ...changed })
        expectMetadata(stored, p.newMetadata)
      }
      const page = ok(
        await invoke("accounts.list", { currency: p.currency, limit: p.limit }),
        "accounts.list",
      )
      expect(page.items.length).toBeGreaterThanOrEqual(1)
      expect(page.items.length).toBeLessThanOrEqual(p.limit)
      if (p.limit === 200) {
        expect(page.items.find((a: Json) => a.id === created.id)).toMatchObject(changed)
      }
      if (page.nextCursor !== null) {
        const next = { currency: p.currency, limit: p.limit, cursor: page.nextCursor }
        ok(await invoke("accounts.list", next), "accounts.list")
      }
    },
  ),

  scenario(
    "a batch of transactions of up to 2^53-1 with the longest texts, kept in order; past the limit together, refused",
    ["transactions.createMany"],
    fc.record({
      items: fc.array(
        fc.record({
          amount: largestAmount,
          direction: fc.constantFrom("credit", "debit"),
          description: longestText(1000),
          counterparty: longestText(200),
          metadata: mostMetadata,
        }),
        { minLength: 1, maxLength: 4 },
      ),
      currency,
    }),
    async (p) => {
      // One account per item, so no two large amounts meet on one account.
      const accounts = await Promise.all(p.items.map(() => freshAccount(p.currency, true)))
      const sent = p.items.map((item, i) => ({
        accountId: accounts[i],
        currency: p.currency,
        ...item,
      }))
      const created = ok(
        await invoke("transactions.createMany", { transactions: sent }),
        "transactions.createMany",
      )
      expect(created.transactions).toHaveLength(sent.length)
      for (const [i, stored] of created.transactions.entries()) {
        const { metadata, ...fields } = sent[i]!
        expect(stored).toMatchObject({ ...fields, status: "posted", version: 1 })
        expectMetadata(stored, metadata)
        const balance = await balanceOf(accounts[i]!)
        expect(balance.posted).toBe(fields.direction === "credit" ? fields.amount : -fields.amount)
      }
      // Two credits that each fit but not together: the second is refused, and with it the batch.
      const accountId = await freshAccount(p.currency)
      const credit = { accountId, direction: "credit", amount: Number.MAX_SAFE_INTEGER - 1 }
      const refused = await invoke("transactions.createMany", {
        transactions: [
          { ...credit, currency: p.currency },
          { ...credit, amount: 2, currency: p.currency },
        ],
      })
      expect(refused.status).toBe(422)
      expect(refused.body.error.data).toMatchObject({
        tag: "BalanceLimitExceeded",
        details: { accountId, figure: "posted+pendingCredits", index: 1, field: "amount" },
      })
      expect(await balanceOf(accountId)).toMatchObject({ posted: 0, pending: 0 })
    },
    10,
  ),

  scenario(
    "a transaction of up to 2^53-1 at the first or last time, with the longest texts, listed and changed",
    [
      "transactions.create",
      "transactions.get",
      "transactions.list",
      "transactions.history",
      "transactions.update",
      "accounts.balance",
    ],
    fc.record({
      amount: largestAmount,
      currency,
      direction: fc.constantFrom("credit", "debit"),
      occurredAt: edgeTime(),
      asOf: edgeTime(),
      text: fc.record({
        description: longestText(1000),
        category: longestText(100),
        counterparty: longestText(200),
        reference: longestText(200),
      }),
      metadata: mostMetadata,
      newText: fc.record({
        description: longestText(1000),
        category: longestText(100),
        counterparty: longestText(200),
        reference: longestText(200),
      }),
      newMetadata: mostMetadata,
    }),
    async (p) => {
      // A debit of 2^53-1 needs an account that may go negative; the other leg, of 1 in the
      // opposite direction, keeps the balance within 2^53-1 of zero.
      const accountId = await freshAccount(p.currency, p.direction === "debit")
      const response = await invoke("transactions.create", {
        accountId,
        direction: p.direction,
        amount: p.amount,
        currency: p.currency,
        occurredAt: p.occurredAt.text,
        ...p.text,
        metadata: p.metadata,
      })
      if (!isKept(p.occurredAt)) {
        expectFieldNamed(response, "occurredAt")
        return
      }
      const sent = {
        accountId,
        direction: p.direction,
        amount: p.amount,
        currency: p.currency,
        status: "posted",
        occurredAt: utcOf(p.occurredAt),
        version: 1,
        ...p.text,
      }
      const created = ok(response, "transactions.create")
      for (const stored of [
        created,
        ok(await invoke("transactions.get", { id: created.id }), "get"),
      ]) {
        expect(stored).toMatchObject(sent)
        expectMetadata(stored, p.metadata)
      }
      const other = ok(
        await invoke("transactions.create", {
          accountId,
          direction: p.direction === "credit" ? "debit" : "credit",
          amount: 1,
          currency: p.currency,
          occurredAt: p.occurredAt.text,
        }),
        "transactions.create",
      )
      expect(other.occurredAt).toBe(created.occurredAt)

      // The time as the client wrote it finds what was stored at it; pages split the two.
      const justAfter = Number(p.occurredAt.micros / 1000n) + 1
      const filters = {
        accountId,
        occurredFrom: p.occurredAt.text,
        ...(justAfter <= latestMs ? { occurredTo: new Date(justAfter).toISOString() } : {}),
        limit: 1,
      }
      const first = ok(await invoke("transactions.list", filters), "transactions.list")
      expect([first.items.length, first.hasMore]).toEqual([1, true])
      const second = ok(
        await invoke("transactions.list", { ...filters, cursor: first.nextCursor }),
        "transactions.list",
      )
      expect([second.items.length, second.hasMore]).toEqual([1, false])
      expect([first.items[0].id, second.items[0].id].sort()).toEqual([created.id, other.id].sort())

      const balance = await invoke("accounts.balance", { id: accountId, asOf: p.asOf.text })
      if (isKept(p.asOf)) {
        // Both were recorded now: after every time in year 1000, before every one in year 9999.
        const net = p.direction === "credit" ? p.amount - 1 : 1 - p.amount
        expect(ok(balance, "accounts.balance")).toMatchObject({
          asOf: utcOf(p.asOf),
          posted: p.asOf.micros > BigInt(Date.now()) * 1000n ? net : 0,
        })
      } else {
        expectFieldNamed(balance, "asOf")
      }

      const history = ok(await invoke("transactions.history", { id: created.id }), "history")
      expect(history[0]).toMatchObject({
        version: 1,
        kind: "created",
        changes: { occurredAt: { from: null, to: utcOf(p.occurredAt) } },
      })

      const updated = ok(
        await invoke("transactions.update", {
          id: created.id,
          expectedVersion: 1,
          ...p.newText,
          metadata: p.newMetadata,
        }),
        "transactions.update",
      )
      for (const stored of [
        updated,
        ok(await invoke("transactions.get", { id: created.id }), "get"),
      ]) {
        expect(stored).toMatchObject({ ...sent, ...p.newText, version: 2 })
        expectMetadata(stored, p.newMetadata)
      }
    },
  ),

  scenario(
    "a hold of up to 2^53-1 expiring at the last time, posted and reversed, or voided",
    ["transactions.post", "transactions.void", "transactions.reverse"],
    fc.record({
      amount: largestAmount,
      expiresAt: edgeTime(["last"]),
      settle: fc.constantFrom("post", "void"),
      description: longestText(1000),
    }),
    async (p) => {
      const accountId = await freshAccount("USD")
      const hold = { accountId, direction: "credit", amount: p.amount, currency: "USD" }
      const response = await invoke("transactions.create", {
        ...hold,
        status: "pending",
        expiresAt: p.expiresAt.text,
      })
      if (!isKept(p.expiresAt)) {
        expectFieldNamed(response, "expiresAt")
        return
      }
      const pending = ok(response, "transactions.create")
      expect(pending).toMatchObject({ status: "pending", expiresAt: utcOf(p.expiresAt) })
      expect(await balanceOf(accountId)).toMatchObject({ posted: 0, pending: p.amount })
      const settled = ok(
        await invoke(`transactions.${p.settle}`, { id: pending.id, expectedVersion: 1 }),
        `transactions.${p.settle}`,
      )
      if (p.settle === "void") {
        expect(settled).toMatchObject({ status: "voided", version: 2 })
        expect(await balanceOf(accountId)).toMatchObject({ posted: 0, pending: 0, available: 0 })
        return
      }
      expect(settled).toMatchObject({ status: "posted", version: 2, expiresAt: null })
      const history = ok(await invoke("transactions.history", { id: pending.id }), "history")
      // The same text as every answer: the event must not say it another way (+00:00, local time).
      expect(history[1].changes.expiresAt).toEqual({ from: pending.expiresAt, to: null })
      expect(await balanceOf(accountId)).toMatchObject({ posted: p.amount, available: p.amount })
      const reversed = ok(
        await invoke("transactions.reverse", {
          id: pending.id,
          expectedVersion: 2,
          description: p.description,
        }),
        "transactions.reverse",
      )
      expect(reversed.original).toMatchObject({ status: "reversed", version: 3 })
      expect(reversed.reversal).toMatchObject({
        direction: "debit",
        amount: p.amount,
        description: p.description,
      })
      expect(await balanceOf(accountId)).toMatchObject({ posted: 0, pending: 0, available: 0 })
    },
  ),

  scenario(
    "a transfer of up to 2^53-1 with the longest description",
    ["transfers.create", "transfers.get"],
    fc.record({ amount: largestAmount, description: longestText(1000) }),
    async (p) => {
      const fromAccountId = await freshAccount("USD")
      const toAccountId = await freshAccount("USD")
      ok(
        await invoke("transactions.create", {
          accountId: fromAccountId,
          direction: "credit",
          amount: Number.MAX_SAFE_INTEGER,
          currency: "USD",
        }),
        "transactions.create",
      )
      const sent = { fromAccountId, toAccountId, currency: "USD", ...p }
      const transfer = ok(await invoke("transfers.create", sent), "transfers.create")
      expect(transfer).toMatchObject(sent)
      expect(ok(await invoke("transfers.get", { id: transfer.id }), "get")).toMatchObject(sent)
      expect(await balanceOf(fromAccountId)).toMatchObject({
        posted: Number.MAX_SAFE_INTEGER - p.amount,
      })
      expect(await balanceOf(toAccountId)).toMatchObject({ posted: p.amount })
    },
  ),

  scenario(
    "list, summary and export filters at the first and last times, amounts and lengths",
    ["transactions.list", "transactions.summary", "exports.create", "exports.get"],
    fc.record({
      occurredFrom: edgeTime(),
      occurredTo: edgeTime(),
      minAmount: fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.nat()),
      maxAmount: fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.nat()),
      search: longestText(200),
      category: longestText(100),
      status: fc.constantFrom("pending", "posted", "voided", "reversed"),
      direction: fc.constantFrom("credit", "debit"),
      limit,
      groupBy: fc.constantFrom("category", "day", "month"),
    }),
    async ({ occurredFrom, occurredTo, limit, groupBy, ...rest }) => {
      const refused = Object.entries({ occurredFrom, occurredTo }).flatMap(([field, time]) =>
        isKept(time) ? [] : [field],
      )
      const times = { occurredFrom: occurredFrom.text, occurredTo: occurredTo.text }
      const filters = { ...rest, ...times }
      const list = await invoke("transactions.list", { ...filters, limit })
      const summary = await invoke("transactions.summary", { groupBy, ...times })
      const exported = await invoke("exports.create", filters)
      if (refused.length > 0) {
        for (const response of [list, summary, exported]) expectFieldsNamed(response, refused)
        return
      }
      expect(ok(list, "transactions.list").items.length).toBeLessThanOrEqual(limit)
      if (occurredFrom.micros >= occurredTo.micros) {
        expectFieldNamed(summary, "occurredTo")
      } else if (summary.status === 200) {
        expect(summary.body.result.data).toMatchObject({
          groupBy,
          occurredFrom: utcOf(occurredFrom),
          occurredTo: utcOf(occurredTo),
        })
      } else {
        expectSuccessOrTypedRefusal(summary, "transactions.summary")
      }
      const created = ok(exported, "exports.create")
      expect(created.filters).toEqual(filters)
      expect(ok(await invoke("exports.get", { id: created.id }), "get").filters).toEqual(filters)
    },
    // Both bounds must be kept to get past the refusal: more runs, so that enough do.
    80,
  ),

  scenario(
    "the change feed in pages of 1 and 200",
    ["transactions.changes"],
    limit,
    async (size) => {
      const page = ok(await invoke("transactions.changes", { limit: size }), "changes")
      expect(page.items.length).toBeLessThanOrEqual(size)
      if (page.nextCursor !== null) {
        const next = { limit: size, cursor: page.nextCursor }
        expect(
          ok(await invoke("transactions.changes", next), "changes").items.length,
        ).toBeLessThanOrEqual(size)
      }
    },
  ),

  scenario(
    "a live stream of one account, resumed after any valid event id",
    ["transactions.live"],
    fc.integer({ min: 0, max: 999_999_999_999_999 }),
    async (seq) => {
      // The largest positions an event id can name open the stream (nothing comes after them).
      const lastEventId = Buffer.from(`9223372036854775807:${seq}`).toString("base64url")
      const response = await invoke("transactions.live", { lastEventId })
      expect(response.status).toBe(200)
    },
    10,
  ),

  scenario(
    "a webhook with the longest URL and description and every event type, changed and deleted",
    [
      "webhooks.create",
      "webhooks.list",
      "webhooks.deliveries",
      "webhooks.update",
      "webhooks.delete",
    ],
    fc.record({
      url: longestUrl(2048),
      newUrl: longestUrl(2048),
      description: longestText(1000),
      eventTypes: fc.shuffledSubarray([...eventTypes, "*"], { minLength: eventTypes.length + 1 }),
      status: fc.constantFrom("pending", "delivered", "failed"),
      limit,
    }),
    async (p) => {
      const sent = { url: p.url, description: p.description, eventTypes: p.eventTypes }
      const created = ok(await invoke("webhooks.create", sent), "webhooks.create")
      expect(created).toMatchObject({ ...sent, status: "active" })
      const page = ok(await invoke("webhooks.list", { limit: p.limit }), "webhooks.list")
      expect(page.items.length).toBeGreaterThanOrEqual(1)
      expect(page.items.length).toBeLessThanOrEqual(p.limit)
      if (p.limit === 200) {
        expect(page.items.find((w: Json) => w.id === created.id)).toMatchObject(sent)
      }
      const deliveries = { id: created.id, status: p.status, limit: p.limit }
      expect(ok(await invoke("webhooks.deliveries", deliveries), "deliveries").items).toEqual([])
      const changed = { url: p.newUrl, description: null, eventTypes: ["*"], status: "disabled" }
      const updated = ok(await invoke("webhooks.update", { id: created.id, ...changed }), "update")
      expect(updated).toMatchObject(changed)
      expect(ok(await invoke("webhooks.delete", { id: created.id }), "delete")).toEqual({
        id: created.id,
        deleted: true,
      })
    },
  ),

  scenario(
    "a user and an API key with the longest names",
    ["admin.users.create", "admin.apiKeys.create", "admin.apiKeys.list", "admin.apiKeys.revoke"],
    fc.record({
      user: longestText(200),
      key: longestText(200),
      scopes: fc.constantFrom(["read"], ["write"], ["read", "write"]),
    }),
    async (p) => {
      const user = ok(await invoke("admin.users.create", { name: p.user }), "users.create")
      expect(user.name).toBe(p.user)
      const sent = { userId: user.id, name: p.key, scopes: p.scopes }
      const { apiKey } = ok(await invoke("admin.apiKeys.create", sent), "apiKeys.create")
      expect(apiKey).toMatchObject({ ...sent, revokedAt: null })
      const listed = ok(await invoke("admin.apiKeys.list", { userId: user.id }), "apiKeys.list")
      expect(listed).toEqual([apiKey])
      const revoked = ok(await invoke("admin.apiKeys.revoke", { id: apiKey.id }), "revoke")
      expect(revoked).toMatchObject({ ...sent, revokedAt: expect.any(String) })
    },
  ),

  scenario(
    "a client token for up to the most accounts, living from a second to an hour",
    ["tokens.create"],
    fc.record({
      accounts: fc.integer({ min: 1, max: 100 }),
      ttlSeconds: fc.oneof(fc.constantFrom(1, 3600), fc.integer({ min: 1, max: 3600 })),
      scopes: fc.constantFrom(["read"], ["read", "write"]),
    }),
    async (p) => {
      tokenAccounts ??= await Promise.all(
        Array.from(
          { length: 100 },
          async (_, i) =>
            ok(
              await invoke("accounts.create", { name: `Token ${i}`, currency: "EUR" }),
              "accounts.create",
            ).id as string,
        ),
      )
      const accountIds = tokenAccounts.slice(0, p.accounts)
      const before = Date.now()
      const sent = { scopes: p.scopes, accountIds, ttlSeconds: p.ttlSeconds }
      const minted = ok(await invoke("tokens.create", sent), "tokens.create")
      expect(minted).toMatchObject({ scopes: p.scopes, accountIds })
      const lifetime = Date.parse(minted.expiresAt) - before
      expect(lifetime).toBeGreaterThan(p.ttlSeconds * 1000 - 1000)
      expect(lifetime).toBeLessThanOrEqual(p.ttlSeconds * 1000 + 1000)
    },
    10,
  ),
]

/** The accounts the client token scenario limits its tokens to, made once. */
let tokenAccounts: Array<string> | undefined

describe("valid but extreme values at every procedure: kept exactly as sent, or a typed 4xx", () => {
  it("has a scenario for every procedure of the router", () => {
    const covered = new Set(scenarios.flatMap((s) => s.covers))
    expect(procedures.map(({ path }) => path).filter((path) => !covered.has(path))).toEqual([])
  })

  for (const { name, assert } of scenarios) it(name, assert)
})

// Balances driven to the limits: each operation's answer is predicted by a model in bigint that
// follows the rules of docs/operations.md, so a wrong refusal fails as surely as a wrong acceptance or a 500.

const most = Number.MAX_SAFE_INTEGER
const mostUnits = BigInt(most)
/** The first and last instants kept, written at the most extreme offsets. */
const firstWritten = "1000-01-01T15:59+15:59"
const lastWritten = "9999-12-31T08:00:59.999-15:59"

/** An amount, or the room the operation has on the driven account (-1 one short, +1 one past). */
type AmountSpec = { readonly fixed: number } | { readonly toLimit: number }

type Operation =
  | {
      readonly op: "create"
      readonly direction: "credit" | "debit"
      readonly status: "posted" | "pending"
      readonly amount: AmountSpec
      readonly category: string | null
      readonly at: "now" | "first" | "last"
      readonly expires: boolean
    }
  | {
      readonly op: "post" | "void" | "expire" | "reverse"
      readonly pick: number
      /** Also picks transactions in a state the operation refuses. */
      readonly anyState: boolean
    }
  | { readonly op: "transfer"; readonly into: boolean; readonly amount: AmountSpec }
  | { readonly op: "allowNegative"; readonly value: boolean }

interface ModelAccount {
  readonly id: string
  allowNegative: boolean
  posted: bigint
  credits: bigint
  debits: bigint
}

interface ModelTransaction {
  readonly id: string
  readonly accountId: string
  readonly direction: "credit" | "debit"
  readonly amount: bigint
  status: "posted" | "pending" | "voided" | "reversed"
  version: number
  readonly reversal: boolean
  readonly category: string | null
  /** Recorded inside the summary's range (the last instant is past its exclusive end). */
  readonly summarized: boolean
  readonly expires: boolean
}

interface Refusal {
  readonly status: number
  readonly tag: string
  readonly details: Record<string, unknown>
}

interface Deltas {
  readonly posted: bigint
  readonly credits: bigint
  readonly debits: bigint
}

const deltasOf = (
  direction: "credit" | "debit",
  status: "posted" | "pending",
  amount: bigint,
): Deltas =>
  status === "posted"
    ? { posted: direction === "credit" ? amount : -amount, credits: 0n, debits: 0n }
    : direction === "credit"
      ? { posted: 0n, credits: amount, debits: 0n }
      : { posted: 0n, credits: 0n, debits: amount }

/**
 * What docs/operations.md promises for `amount` moving `account` by `d`: no refusal (it must succeed), or
 * the refusals it may answer (several when it breaks several bounds at once).
 */
const refusalsOf = (account: ModelAccount, d: Deltas, amount: bigint): ReadonlyArray<Refusal> => {
  const posted = account.posted + d.posted
  const credits = account.credits + d.credits
  const debits = account.debits + d.debits
  const availableBefore = account.posted - account.debits
  const available = posted - debits
  const requested = Number(amount)
  if (!account.allowNegative && available < 0n && available < availableBefore) {
    const details = { accountId: account.id, available: Number(availableBefore), requested }
    return [{ status: 422, tag: "InsufficientFunds", details }]
  }
  const exceeded = (figure: string, balance: bigint, bound: bigint): Refusal => ({
    status: 422,
    tag: "BalanceLimitExceeded",
    details: {
      accountId: account.id,
      figure,
      balance: Number(balance),
      requested,
      limit: Number(bound),
    },
  })
  return [
    ...(posted + credits > mostUnits
      ? [exceeded("posted+pendingCredits", account.posted + account.credits, mostUnits)]
      : []),
    ...(available < -mostUnits ? [exceeded("available", availableBefore, -mostUnits)] : []),
    ...(credits > mostUnits ? [exceeded("pendingCredits", account.credits, mostUnits)] : []),
    ...(debits > mostUnits ? [exceeded("pendingDebits", account.debits, mostUnits)] : []),
  ]
}

const smaller = (a: bigint, b: bigint) => (a < b ? a : b)

/** How much more `account` can take of such a posting before a refusal. */
const roomFor = (
  account: ModelAccount,
  direction: "credit" | "debit",
  status: "posted" | "pending",
): bigint => {
  if (direction === "credit") {
    const total = mostUnits - account.posted - account.credits
    return status === "pending" ? smaller(total, mostUnits - account.credits) : total
  }
  const available = account.posted - account.debits
  if (!account.allowNegative) return available
  return status === "pending"
    ? smaller(available + mostUnits, mostUnits - account.debits)
    : available + mostUnits
}

/** Within the amounts a request may name: 1 to 2^53-1. */
const amountOf = (spec: AmountSpec, room: bigint): bigint => {
  if ("fixed" in spec) return BigInt(spec.fixed)
  const wanted = room + BigInt(spec.toLimit)
  return wanted < 1n ? 1n : wanted > mostUnits ? mostUnits : wanted
}

/** Answered as predicted: what it returned, or the one refusal it gave of those allowed. */
const expectOutcome = (
  response: { status: number; body: Json },
  refusals: ReadonlyArray<Refusal>,
  what: string,
): Json => {
  expectSuccessOrTypedRefusal(response, what)
  if (refusals.length === 0) return ok(response, what)
  const answer = {
    status: response.status,
    tag: response.body.error?.data?.tag,
    details: response.body.error?.data?.details,
  }
  const match =
    refusals.find(
      (r) =>
        r.tag === answer.tag &&
        r.details.accountId === answer.details?.accountId &&
        r.details.figure === answer.details?.figure,
    ) ?? refusals[0]
  expect(answer, what).toMatchObject(match as Refusal)
  return undefined
}

/** The account's figures as PostgreSQL holds them, in its ledger too, exactly. */
const storedFigures = async (id: string) => {
  const [row] = await api.runtime.runPromise(
    SqlClient.SqlClient.use(
      (sql) => sql<Record<string, string>>`
        select a.posted_balance::text as posted,
               a.pending_credits::text as pending_credits,
               a.pending_debits::text as pending_debits,
               (a.posted_balance + a.pending_credits - a.pending_debits)::text as pending,
               (a.posted_balance - a.pending_debits)::text as available,
               (select count(*)::text from transactions t where t.account_id = a.id) as transactions,
               (select coalesce(sum(posted_delta), 0)::text || ' ' ||
                       coalesce(sum(pending_credits_delta), 0)::text || ' ' ||
                       coalesce(sum(pending_debits_delta), 0)::text
                  from ledger_entries e where e.account_id = a.id) as ledger
          from accounts a where a.id = ${id}`,
    ),
  )
  return row
}

/** The figures the API, PostgreSQL and its ledger must all show: the model's. */
const expectFigures = async (account: ModelAccount, transactionCount: number, what: string) => {
  const pending = account.posted + account.credits - account.debits
  const available = account.posted - account.debits
  const shown = await balanceOf(account.id)
  expect(
    {
      posted: String(shown.posted),
      pending: String(shown.pending),
      available: String(shown.available),
    },
    what,
  ).toEqual({ posted: `${account.posted}`, pending: `${pending}`, available: `${available}` })
  expect(await storedFigures(account.id), what).toEqual({
    posted: `${account.posted}`,
    pendingCredits: `${account.credits}`,
    pendingDebits: `${account.debits}`,
    pending: `${pending}`,
    available: `${available}`,
    transactions: `${transactionCount}`,
    ledger: `${account.posted} ${account.credits} ${account.debits}`,
  })
}

/** The summary of the account over every time kept: exact totals, or 400 when they pass 2^53-1. */
const expectSummary = async (
  account: ModelAccount,
  transactions: ReadonlyArray<ModelTransaction>,
  what: string,
) => {
  const groups = new Map<string | null, { credits: bigint; debits: bigint; count: number }>()
  for (const t of transactions) {
    if (t.accountId !== account.id || !t.summarized) continue
    if (t.status !== "posted" && t.status !== "reversed") continue
    const group = groups.get(t.category) ?? { credits: 0n, debits: 0n, count: 0 }
    if (t.direction === "credit") group.credits += t.amount
    else group.debits += t.amount
    group.count += 1
    groups.set(t.category, group)
  }
  const keys = [...groups.keys()].sort((a, b) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
  )
  const totals = keys.map((key) => {
    const group = groups.get(key) ?? { credits: 0n, debits: 0n, count: 0 }
    return { key, ...group, net: group.credits - group.debits }
  })
  const response = await invoke("transactions.summary", {
    groupBy: "category",
    accountId: account.id,
    occurredFrom: firstWritten,
    occurredTo: lastWritten,
  })
  const exact = (value: bigint) => value <= mostUnits && value >= -mostUnits
  if (!totals.every((g) => exact(g.credits) && exact(g.debits) && exact(g.net))) {
    expectFieldNamed(response, "occurredFrom")
    return
  }
  expect(ok(response, `transactions.summary after ${what}`)).toEqual({
    groupBy: "category",
    occurredFrom: new Date(earliestMs).toISOString(),
    occurredTo: new Date(latestMs).toISOString(),
    groups: totals.map((g) => ({
      key: g.key,
      currency: "USD",
      credits: Number(g.credits),
      debits: Number(g.debits),
      net: Number(g.net),
      count: g.count,
    })),
  })
}

/**
 * Runs `operations` on a new account (and, for transfers, a second one that may go negative),
 * checking each answer against the model, then every figure and the summary.
 */
const runOperations = async (allowNegative: boolean, operations: ReadonlyArray<Operation>) => {
  const open = async (allow: boolean): Promise<ModelAccount> => ({
    id: await freshAccount("USD", allow),
    allowNegative: allow,
    posted: 0n,
    credits: 0n,
    debits: 0n,
  })
  const driven = await open(allowNegative)
  const other = await open(true)
  const transactions: Array<ModelTransaction> = []
  const accountOf = (t: ModelTransaction) => (t.accountId === driven.id ? driven : other)
  const apply = (account: ModelAccount, d: Deltas) => {
    account.posted += d.posted
    account.credits += d.credits
    account.debits += d.debits
  }
  const record = (t: Omit<ModelTransaction, "version" | "reversal"> & { reversal?: boolean }) =>
    transactions.push({ version: 1, reversal: false, ...t })
  const settle = (t: ModelTransaction, to: "posted" | "voided") => {
    const held = deltasOf(t.direction, "pending", t.amount)
    apply(accountOf(t), {
      posted: to === "posted" ? deltasOf(t.direction, "posted", t.amount).posted : 0n,
      credits: -held.credits,
      debits: -held.debits,
    })
    t.status = to
    t.version += 1
  }
  /** One of the driven account's transactions, of those the operation accepts if there are any. */
  const pick = (
    operation: { readonly pick: number; readonly anyState: boolean },
    accepts: (t: ModelTransaction) => boolean,
  ) => {
    const own = transactions.filter((t) => t.accountId === driven.id)
    const accepted = operation.anyState ? own : own.filter(accepts)
    const pool = accepted.length > 0 ? accepted : own
    return pool[operation.pick % Math.max(pool.length, 1)]
  }
  const invalid = (t: ModelTransaction, to: string): ReadonlyArray<Refusal> => [
    { status: 409, tag: "InvalidStateTransition", details: { id: t.id, from: t.status, to } },
  ]

  for (const [step, operation] of operations.entries()) {
    const what = `step ${step}: ${JSON.stringify(operation)}`
    switch (operation.op) {
      case "create": {
        const { direction, status } = operation
        const amount = amountOf(operation.amount, roomFor(driven, direction, status))
        const d = deltasOf(direction, status, amount)
        const refusals = refusalsOf(driven, d, amount)
        const response = await invoke("transactions.create", {
          accountId: driven.id,
          direction,
          amount: Number(amount),
          currency: "USD",
          status,
          ...(operation.category === null ? {} : { category: operation.category }),
          ...(operation.at === "now"
            ? {}
            : { occurredAt: operation.at === "first" ? firstWritten : lastWritten }),
          ...(status === "pending" && operation.expires ? { expiresAt: lastWritten } : {}),
        })
        const created = expectOutcome(response, refusals, what)
        if (refusals.length > 0) break
        expect(created, what).toMatchObject({ amount: Number(amount), status, version: 1 })
        apply(driven, d)
        record({
          id: created.id,
          accountId: driven.id,
          direction,
          amount,
          status,
          category: operation.category,
          summarized: operation.at !== "last",
          expires: status === "pending" && operation.expires,
        })
        break
      }
      case "post":
      case "void": {
        const t = pick(operation, (c) => c.status === "pending")
        if (t === undefined) break
        const to = operation.op === "post" ? "posted" : "voided"
        const response = await invoke(`transactions.${operation.op}`, {
          id: t.id,
          expectedVersion: t.version,
        })
        if (t.status !== "pending") {
          expectOutcome(response, invalid(t, to), what)
          break
        }
        const settled = expectOutcome(response, [], what)
        expect(settled, what).toMatchObject({ status: to, version: t.version + 1 })
        settle(t, to)
        break
      }
      case "expire": {
        const t = pick(operation, (c) => c.status === "pending" && c.expires)
        if (t === undefined) break
        // As the worker does once the hold's time has come: the last instant kept.
        const outcome = await api.runtime.runPromise(
          TransactionRepository.use((r) =>
            r.expire(t.id as TransactionId, new Date(latestMs)),
          ).pipe(Effect.provideService(Actor, "worker")),
        )
        const expected = t.status !== "pending" ? "notPending" : t.expires ? "voided" : "notDue"
        expect(outcome, what).toBe(expected)
        if (outcome === "voided") settle(t, "voided")
        break
      }
      case "reverse": {
        const t = pick(operation, (c) => c.status === "posted" && !c.reversal)
        if (t === undefined) break
        const response = await invoke("transactions.reverse", {
          id: t.id,
          expectedVersion: t.version,
        })
        if (t.status !== "posted" || t.reversal) {
          expectOutcome(response, invalid(t, "reversed"), what)
          break
        }
        const direction = t.direction === "credit" ? "debit" : "credit"
        const d = deltasOf(direction, "posted", t.amount)
        const refusals = refusalsOf(driven, d, t.amount)
        const reversed = expectOutcome(response, refusals, what)
        if (refusals.length > 0) break
        expect(reversed.original, what).toMatchObject({ status: "reversed" })
        apply(driven, d)
        t.status = "reversed"
        t.version += 1
        record({
          id: reversed.reversal.id,
          accountId: driven.id,
          direction,
          amount: t.amount,
          status: "posted",
          reversal: true,
          category: t.category,
          summarized: true,
          expires: false,
        })
        break
      }
      case "transfer": {
        const [from, to] = operation.into ? [other, driven] : [driven, other]
        const room = roomFor(driven, operation.into ? "credit" : "debit", "posted")
        const amount = amountOf(operation.amount, room)
        const debit = deltasOf("debit", "posted", amount)
        const credit = deltasOf("credit", "posted", amount)
        // Either leg's refusal may be the one answered.
        const refusals = [...refusalsOf(from, debit, amount), ...refusalsOf(to, credit, amount)]
        const response = await invoke("transfers.create", {
          fromAccountId: from.id,
          toAccountId: to.id,
          amount: Number(amount),
          currency: "USD",
        })
        const transfer = expectOutcome(response, refusals, what)
        if (refusals.length > 0) break
        apply(from, debit)
        apply(to, credit)
        for (const [id, account, direction] of [
          [transfer.debitTransactionId, from, "debit"],
          [transfer.creditTransactionId, to, "credit"],
        ] as const) {
          record({
            id,
            accountId: account.id,
            direction,
            amount,
            status: "posted",
            category: "transfer",
            summarized: true,
            expires: false,
          })
        }
        break
      }
      case "allowNegative": {
        const available = driven.posted - driven.debits
        const refusals: ReadonlyArray<Refusal> =
          !operation.value && available < 0n
            ? [
                {
                  status: 422,
                  tag: "InsufficientFunds",
                  details: { accountId: driven.id, available: Number(available), requested: 0 },
                },
              ]
            : []
        const response = await invoke("accounts.update", {
          id: driven.id,
          allowNegative: operation.value,
        })
        const updated = expectOutcome(response, refusals, what)
        if (refusals.length > 0) break
        expect(updated.allowNegative, what).toBe(operation.value)
        driven.allowNegative = operation.value
        break
      }
    }
  }
  const what = `after ${JSON.stringify(operations)}`
  for (const account of [driven, other]) {
    const count = transactions.filter((t) => t.accountId === account.id).length
    await expectFigures(account, count, what)
  }
  await expectSummary(driven, transactions, what)
}

/** An amount that takes the driven account to, or up to three units short of, a limit. */
const nearLimit = fc.record({ toLimit: fc.integer({ min: -3, max: 0 }) })
/** Up to one past the room left, the largest amounts, and any other. */
const extremeAmount: fc.Arbitrary<AmountSpec> = fc.oneof(
  fc.record({ toLimit: fc.integer({ min: -1, max: 1 }) }),
  fc.record({ fixed: fc.constantFrom(1, 2, most) }),
  fc.record({ fixed: fc.integer({ min: most - 3, max: most }) }),
  fc.record({ fixed: fc.integer({ min: 1, max: most }) }),
)
const credit = fc.constant("credit" as const)
const debit = fc.constant("debit" as const)
const posted = fc.constant("posted" as const)
const pending = fc.constant("pending" as const)
const either = fc.constantFrom("posted" as const, "pending" as const)

const create = (
  direction: fc.Arbitrary<"credit" | "debit">,
  status: fc.Arbitrary<"posted" | "pending">,
  amount: fc.Arbitrary<AmountSpec> = extremeAmount,
): fc.Arbitrary<Operation> =>
  fc.record({
    op: fc.constant("create" as const),
    direction,
    status,
    amount,
    category: fc.constantFrom(null, "a", "b"),
    at: fc.constantFrom("now" as const, "first" as const, "last" as const),
    expires: fc.boolean(),
  })
const change = (
  ops: ReadonlyArray<"post" | "void" | "expire" | "reverse">,
  pickOf: fc.Arbitrary<number> = fc.nat(7),
): fc.Arbitrary<Operation> =>
  fc.record({
    op: fc.constantFrom(...ops),
    pick: pickOf,
    anyState: fc.oneof(
      { arbitrary: fc.constant(false), weight: 4 },
      { arbitrary: fc.constant(true), weight: 1 },
    ),
  })
const transfer = (into: fc.Arbitrary<boolean> = fc.boolean()): fc.Arbitrary<Operation> =>
  fc.record({ op: fc.constant("transfer" as const), into, amount: extremeAmount })
const allowNegative: fc.Arbitrary<Operation> = fc.record({
  op: fc.constant("allowNegative" as const),
  value: fc.boolean(),
})
const anyOperation = fc.oneof(
  create(fc.constantFrom("credit" as const, "debit" as const), either),
  change(["post", "void", "expire", "reverse"]),
  transfer(),
  allowNegative,
)

const sequence = (
  ...operations: ReadonlyArray<fc.Arbitrary<Operation | ReadonlyArray<Operation>>>
) => fc.tuple(...operations).map((parts) => parts.flat() as ReadonlyArray<Operation>)

const limitCases: ReadonlyArray<{
  readonly name: string
  readonly allowNegative: fc.Arbitrary<boolean>
  readonly operations: fc.Arbitrary<ReadonlyArray<Operation>>
  readonly numRuns?: number
}> = [
  {
    name: "a credit or pending credit into an account at or near 2^53-1",
    allowNegative: fc.boolean(),
    operations: sequence(
      create(credit, either, nearLimit),
      create(credit, either),
      create(credit, either),
    ),
  },
  {
    name: "pending credits filling an account to 2^53-1, then posted, voided or expired",
    allowNegative: fc.boolean(),
    operations: sequence(
      create(credit, either, nearLimit),
      create(credit, pending),
      create(credit, posted),
      change(["post", "void", "expire"]),
      change(["post", "void", "expire"]),
      create(credit, either),
    ),
  },
  {
    name: "two pending credits of 2^53-1 on one account, at zero or at -(2^53-1)",
    allowNegative: fc.constant(true),
    operations: sequence(
      fc.option(create(debit, posted, fc.constantFrom({ fixed: most }, { toLimit: -1 })), {
        nil: [],
      }),
      create(credit, pending, fc.constant({ fixed: most })),
      create(credit, pending, fc.constant({ fixed: most })),
      change(["post", "void", "expire"]),
      change(["post", "void", "expire"]),
    ),
  },
  {
    name: "a transfer into an account at or near 2^53-1, and out of it",
    allowNegative: fc.boolean(),
    operations: sequence(
      create(credit, either, nearLimit),
      transfer(fc.constant(true)),
      transfer(fc.constant(true)),
      transfer(),
    ),
  },
  {
    name: "a debit or hold on an account that may go negative, at or near -(2^53-1)",
    allowNegative: fc.constant(true),
    operations: sequence(
      create(debit, either, nearLimit),
      create(debit, either),
      transfer(fc.constant(false)),
      change(["post", "void", "expire"]),
      create(debit, either),
    ),
  },
  {
    name: "a reversal into an account at the limit, and of a credit it has spent",
    allowNegative: fc.boolean(),
    operations: sequence(
      create(credit, posted, nearLimit),
      create(debit, posted),
      // The first credit, part of which the debit spent.
      change(["reverse"], fc.constant(0)),
      create(credit, posted, fc.record({ toLimit: fc.integer({ min: -1, max: 0 }) })),
      // Often the debit: its money back would pass the limit.
      change(["reverse"]),
      change(["reverse"]),
    ),
  },
  {
    name: "holds on an account at the limit, posted, voided or expired",
    allowNegative: fc.boolean(),
    operations: sequence(
      create(credit, posted, nearLimit),
      create(credit, pending, fc.record({ toLimit: fc.integer({ min: -1, max: 1 }) })),
      create(debit, pending),
      change(["post", "void", "expire"]),
      change(["post", "void", "expire"]),
      change(["post", "void", "expire"]),
      create(credit, either, fc.record({ toLimit: fc.integer({ min: 0, max: 1 }) })),
    ),
  },
  {
    name: "a debit to the last unit of an account that may not go negative",
    allowNegative: fc.constant(false),
    operations: sequence(
      create(credit, posted),
      create(debit, pending),
      create(debit, either, fc.record({ toLimit: fc.integer({ min: -1, max: 1 }) })),
      allowNegative,
      create(debit, either),
    ),
  },
  {
    name: "random sequences of every operation on one account driven near the limits",
    allowNegative: fc.boolean(),
    operations: sequence(
      fc.option(create(fc.constantFrom("credit" as const, "debit" as const), either, nearLimit), {
        nil: [],
      }),
      fc.array(anyOperation, { minLength: 1, maxLength: 14 }),
    ),
    numRuns: 40,
  },
]

describe("balances at and near ±(2^53-1): each answer a success or the typed refusal the model predicts", () => {
  for (const { name, allowNegative: allow, operations, numRuns } of limitCases) {
    it(name, () =>
      fc.assert(fc.asyncProperty(allow, operations, runOperations), { numRuns: numRuns ?? 15 }),
    )
  }
})

/** A valid input of each procedure that takes a time or a cursor, to put one bad value into. */
let webhookId: string
const validInputs: Record<string, () => Record<string, unknown>> = {
  "accounts.balance": () => ({ id: untouchedAccountId }),
  "accounts.list": () => ({}),
  "transactions.create": () => transactionWith({ status: "pending" }),
  "transactions.list": () => ({}),
  "transactions.summary": () => ({
    groupBy: "month",
    occurredFrom: "2026-01-01T00:00:00Z",
    occurredTo: "2026-02-01T00:00:00Z",
  }),
  "exports.create": () => ({}),
  "webhooks.list": () => ({}),
  "webhooks.deliveries": () => ({ id: webhookId }),
}
const withValue = (path: string, field: string, value: string) => {
  const valid = validInputs[path]
  if (valid === undefined) throw new Error(`No valid input of ${path} to put ${field} into`)
  return { ...valid(), [field]: value }
}

const timestampInputs = inputsOfType(Timestamp)
const cursorInputs = inputsOfType(Cursor)

/** Times the API cannot keep exactly: outside years 1000 to 9999 in UTC, or finer than 1 ms. */
const refusedTimes = [
  "9999-12-31T23:59:59-15:59",
  "9999-12-31T23:59:59.999-00:01",
  "1000-01-01T00:00:00+00:01",
  "1000-01-01T15:58:59.999+15:59",
  "9999-12-31T23:59:59.9995Z",
  "2026-03-01T09:30:00.123456+02:00",
]
const refusedTime = edgeTime().filter((time) => !isKept(time))

describe("times PostgreSQL, cursors and ISO output cannot all carry are refused with 400 naming the field", () => {
  beforeAll(async () => {
    webhookId = ok(
      await api.mutate("webhooks.create", {
        url: "https://hooks.example.com/hook",
        eventTypes: ["*"],
      }),
      "webhooks.create",
    ).id
  })
  afterAll(async () => {
    await api.mutate("webhooks.delete", { id: webhookId })
  })

  it("finds the time and cursor inputs of the router, with a valid input for each", () => {
    expect(timestampInputs.map(({ path, field }) => `${path} ${field}`)).toEqual(
      expect.arrayContaining([
        "accounts.balance asOf",
        "transactions.create occurredAt",
        "transactions.create expiresAt",
        "transactions.list occurredFrom",
        "transactions.list occurredTo",
        "transactions.summary occurredFrom",
        "transactions.summary occurredTo",
        "exports.create occurredFrom",
        "exports.create occurredTo",
      ]),
    )
    expect(cursorInputs.map(({ path }) => path)).toEqual(
      expect.arrayContaining(["accounts.list", "transactions.list", "webhooks.list"]),
    )
    for (const { path } of [...timestampInputs, ...cursorInputs]) {
      expect(Object.keys(validInputs)).toContain(path)
    }
  })

  it("refuses year 10000 or 999 in UTC, and fractions of a millisecond, at every time input", async () => {
    for (const { path, field } of timestampInputs) {
      for (const time of refusedTimes) {
        expectFieldNamed(await invoke(path, withValue(path, field, time)), field)
      }
    }
  })

  it("refuses any such time written at the edges of the format, at every time input", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...timestampInputs), refusedTime, async (target, time) => {
        const input = withValue(target.path, target.field, time.text)
        expectFieldNamed(await invoke(target.path, input), target.field)
      }),
      { numRuns: 100 },
    )
  })

  it("refuses a cursor holding such a time, at every cursor input", async () => {
    const id = `txn_${"0".repeat(26)}`
    for (const { path, field } of cursorInputs) {
      for (const at of refusedTimes) {
        const cursor = encodeCursor({ at, id })
        expectFieldNamed(await invoke(path, withValue(path, field, cursor)), field)
      }
      const first = encodeCursor({ at: "1000-01-01T00:00:00.000Z", id })
      expect(ok(await invoke(path, withValue(path, field, first)), path).items).toEqual([])
    }
  })

  it("stored nothing while refusing", async () => {
    const listed = await api.query("transactions.list", { accountId: untouchedAccountId })
    expect(listed.body.result.data.items).toEqual([])
  })
})

describe("times the system stamps page like the times clients send", () => {
  it("lists every webhook delivery once in pages of 1, however close together they were made", async () => {
    const webhook = ok(
      await api.mutate("webhooks.create", {
        url: "https://hooks.example.com/pages",
        eventTypes: ["account.created"],
      }),
      "webhooks.create",
    )
    const [before] = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) =>
          sql<{ readonly seq: string }>`select coalesce(max(seq), 0)::text as seq from outbox`,
      ),
    )
    for (let i = 0; i < 20; i++) await createAccount(api, { name: `Paged ${i}` })
    // What the worker's relay does with each event, back to back on one connection.
    const made = await api.runtime.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const events = yield* sql<{ readonly id: string }>`
          select id from outbox
           where user_id = ${api.userId} and type = 'account.created' and seq > ${before?.seq}::bigint
           order by seq`
        for (const { id } of events) {
          const event = yield* PgOutbox.findEvent(id)
          if (event !== undefined) yield* PgOutbox.createDeliveries(event)
        }
        return yield* sql<{ readonly id: string; readonly wholeMillisecond: boolean }>`
          select id, created_at = date_trunc('milliseconds', created_at) as whole_millisecond
            from webhook_deliveries where webhook_id = ${webhook.id}`
      }),
    )
    expect(made).toHaveLength(20)
    expect(made.filter((delivery) => !delivery.wholeMillisecond)).toEqual([])
    const seen: Array<string> = []
    let cursor: string | null = null
    for (let page = 0; page <= made.length; page++) {
      const input = { id: webhook.id, limit: 1, ...(cursor === null ? {} : { cursor }) }
      const answer = ok(await api.query("webhooks.deliveries", input), "webhooks.deliveries")
      seen.push(...answer.items.map((delivery: Json) => delivery.id))
      cursor = answer.nextCursor
      if (cursor === null) break
    }
    expect(seen.sort()).toEqual(made.map((delivery) => delivery.id).sort())
    ok(await api.mutate("webhooks.delete", { id: webhook.id }), "webhooks.delete")
  })
})
