import * as Base64Url from "effect/encoding/Base64Url"
import { describe, expect, it } from "vitest"
import {
  Cursor,
  decodeCursor,
  encodeCursor,
  Limit,
  Metadata,
  newTransactionId,
  Text,
  Timestamp,
  timestampMillis,
} from "../src/index.ts"
import { decoded, issuesOf, isValid } from "./validate.ts"

describe("Timestamp", () => {
  it.each([
    "2026-01-31T12:00:00Z",
    "2026-01-31T12:00:00.123+02:00",
    "2024-02-29T23:59:59.999000-05:30",
    "1000-01-01T00:00:00Z",
    "1000-01-01T15:59:00+15:59",
    "9999-12-31T23:59:59.999Z",
    "9999-12-31T08:00:59.999-15:59",
  ])("accepts %s", (s) => {
    expect(decoded(Timestamp, s)).toBe(s)
  })

  // JavaScript writes such an instant as +010000-01-01T..., which PostgreSQL refuses, or as year
  // 0999, before the range; either way it could not come back as it went in.
  it.each([
    "9999-12-31T23:59:59-15:59",
    "9999-12-31T23:59:59.999-00:01",
    "1000-01-01T00:00:00+00:01",
    "1000-01-01T15:58:59.999+15:59",
  ])("rejects %s, outside years 1000 to 9999 once converted to UTC", (s) => {
    expect(issuesOf(Timestamp, s)).toEqual([
      {
        path: [],
        message:
          "Expected a time from 1000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z once converted to UTC",
      },
    ])
  })

  it.each(["2024-02-29T23:59:59.999999-05:30", "2026-01-31T12:00:00.0001Z"])(
    "rejects %s, finer than the millisecond every answer carries",
    (s) => {
      expect(issuesOf(Timestamp, s)).toEqual([
        {
          path: [],
          message:
            "Expected at most millisecond precision: no digit other than 0 after the third decimal",
        },
      ])
    },
  )

  it("converts any offset to the same instant", () => {
    expect(timestampMillis("9999-12-31T08:00:59.999-15:59")).toBe(
      Date.parse("9999-12-31T23:59:59.999Z"),
    )
    expect(timestampMillis("2026-01-31T12:00+05:30")).toBe(Date.parse("2026-01-31T06:30:00Z"))
    expect(timestampMillis("9999-12-31T23:59:59-15:59")).toBeNaN()
  })

  // PostgreSQL's timestamptz refuses offsets of 16 hours or more ("time zone displacement out of
  // range"), so accepting one turns a bad request into a failed insert.
  it("rejects an offset PostgreSQL cannot store, such as +16:00", () => {
    expect(isValid(Timestamp, "2026-01-31T12:00:00+15:59")).toBe(true)
    expect(isValid(Timestamp, "2026-01-31T12:00:00+16:00")).toBe(false)
    expect(isValid(Timestamp, "2026-01-31T12:00:00-23:59")).toBe(false)
  })

  it.each([
    ["2026-02-30T00:00:00Z", "a day that does not exist"],
    ["2026-13-01T00:00:00Z", "a month that does not exist"],
    ["2026-01-31", "a date without a time"],
    ["2026-01-31T12:00:00", "a time without a zone"],
    ["0999-01-01T00:00:00Z", "a year before 1000"],
    ["not a date", "text"],
  ])("rejects %s (%s)", (s) => {
    expect(issuesOf(Timestamp, s)).toEqual([
      {
        path: [],
        message: "Expected an ISO 8601 date-time with a time zone, such as 2026-01-31T12:00:00Z",
      },
    ])
  })
})

const metadataWith = (keys: number) =>
  Object.fromEntries(Array.from({ length: keys }, (_, i) => [`key${i}`, "value"]))

describe("Metadata", () => {
  it("accepts 50 keys", () => {
    expect(decoded(Metadata, metadataWith(50))).toEqual(metadataWith(50))
  })

  it("rejects 51 keys", () => {
    expect(issuesOf(Metadata, metadataWith(51))).toEqual([
      { path: [], message: "Expected at most 50 metadata keys" },
    ])
  })

  it("accepts a key of 40 characters", () => {
    expect(isValid(Metadata, { ["k".repeat(40)]: "v" })).toBe(true)
  })

  it("rejects a key of 41 characters, naming the key", () => {
    const key = "k".repeat(41)
    expect(issuesOf(Metadata, { [key]: "v" })).toEqual([
      { path: [key], message: "Expected a metadata key of 1 to 40 characters" },
    ])
  })

  it("rejects an empty key", () => {
    expect(issuesOf(Metadata, { "": "v" })).toEqual([
      { path: [""], message: "Expected a metadata key of 1 to 40 characters" },
    ])
  })

  it("accepts a value of 500 characters", () => {
    expect(isValid(Metadata, { k: "v".repeat(500) })).toBe(true)
  })

  it("rejects a value of 501 characters", () => {
    expect(issuesOf(Metadata, { k: "v".repeat(501) })).toEqual([
      { path: ["k"], message: "Expected at most 500 characters" },
    ])
  })

  it("rejects a value that is not a string", () => {
    expect(issuesOf(Metadata, { k: 1 }).map((issue) => issue.path)).toEqual([["k"]])
  })

  // A naive `out[key] = value` copy would drop this key or touch the prototype.
  it('keeps a "__proto__" key from JSON as ordinary data', () => {
    const json = '{"__proto__":"x"}'
    const value = decoded(Metadata, JSON.parse(json))
    expect(Object.keys(value)).toEqual(["__proto__"])
    expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toBe("x")
    expect(JSON.stringify(value)).toBe(json)
  })
})

describe("Text", () => {
  it("accepts text up to its length", () => {
    expect(decoded(Text(5), "hello")).toBe("hello")
  })

  it("rejects a NUL character, which PostgreSQL text cannot hold", () => {
    expect(issuesOf(Text(10), "a\u0000b")).toEqual([
      { path: [], message: "Expected no NUL characters" },
    ])
  })
})

describe("Limit", () => {
  it.each([1, 50, 200])("accepts %d", (limit) => {
    expect(decoded(Limit, limit)).toBe(limit)
  })

  it.each([0, 201, 1.5])("rejects %d", (limit) => {
    expect(isValid(Limit, limit)).toBe(false)
  })
})

describe("Cursor", () => {
  const position = { at: "2026-01-31T12:00:00.123Z", id: newTransactionId() }

  it("decodes what it encoded", () => {
    expect(decodeCursor(encodeCursor(position))).toEqual(position)
  })

  it("accepts an encoded cursor", () => {
    expect(decoded(Cursor, encodeCursor(position))).toBe(encodeCursor(position))
  })

  it.each([
    ["an empty string", ""],
    ["a short garbage string", "abc"],
    ["a well-formed encoding of the wrong content", Base64Url.encode("x|y")],
    ["a 300-character string", "a".repeat(300)],
    ["a cursor with extra parts", Base64Url.encode(`${position.at}|${position.id}|extra`)],
    ["a time in year 10000 in UTC", encodeCursor({ ...position, at: "9999-12-31T23:59:59-15:59" })],
    ["a time finer than 1 ms", encodeCursor({ ...position, at: "2026-01-31T12:00:00.0001Z" })],
  ])("rejects %s", (_, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined()
    expect(issuesOf(Cursor, cursor)).toEqual([
      { path: [], message: "Expected a cursor returned as nextCursor by a list call" },
    ])
  })
})
