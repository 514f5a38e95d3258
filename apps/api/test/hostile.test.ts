import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
/** Where hostile text is stored and read back. */
let accountId: string
/** Where every request is meant to be refused: it must stay empty. */
let untouchedAccountId: string
/** A transaction updated over and over. */
let updatedId: string

const createAccount = async (name: string) =>
  (await api.mutate("accounts.create", { name, currency: "USD" })).body.result.data.id as string

beforeAll(async () => {
  api = await startTestApi()
  accountId = await createAccount("Hostile text")
  untouchedAccountId = await createAccount("Refused requests")
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
  // Fails today: @effect/sql-pg 4.0.5 decodes such a value with a TextDecoder that strips a
  // leading U+FEFF. When this starts passing, drop `.fails` and `losesLeadingBom` above.
  it.fails("keeps a leading byte order mark in text that also holds U+FFFD", async () => {
    const text = "\ufeffbefore \ufffd after"
    const created = await api.mutate("transactions.create", {
      accountId,
      direction: "credit",
      amount: 1,
      currency: "USD",
      description: text,
    })
    const read = await api.query("transactions.get", { id: created.body.result.data.id })
    expect(read.body.result.data.description).toBe(text)
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
  path === "transactions.list" ? api.query(path, input) : api.mutate(path, input)

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
