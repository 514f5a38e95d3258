import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/** Free text stored verbatim; bounded so one request cannot bloat a row. */
export const Text = (maxLength: number) =>
  Schema.String.pipe(
    Schema.check(
      Schema.isMaxLength(maxLength, { message: `Expected at most ${maxLength} characters` }),
      // PostgreSQL text can hold neither NUL nor a lone UTF-16 surrogate; refuse them here rather
      // than fail in the database or store a replacement character.
      Schema.makeFilter((s: string) => !s.includes("\u0000") || "Expected no NUL characters"),
      Schema.makeFilter((s: string) => s.isWellFormed() || "Expected well-formed Unicode text"),
    ),
  )

export const Name = Text(200).pipe(
  Schema.check(
    Schema.makeFilter((s: string) => s.trim().length > 0 || "Expected a non-empty name"),
  ),
)

export const maxMetadataKeys = 50
export const maxMetadataKeyLength = 40
export const maxMetadataValueLength = 500

/** Up to 50 string pairs for the caller's own use; keys up to 40 characters, values up to 500. */
export const Metadata = Schema.Record(Schema.String, Text(maxMetadataValueLength)).pipe(
  Schema.check(
    Schema.isMaxProperties(maxMetadataKeys, {
      message: `Expected at most ${maxMetadataKeys} metadata keys`,
    }),
    // Checked on the whole record because a record drops, rather than reports, keys that fail.
    Schema.makeFilter((metadata: Record<string, string>) =>
      Object.keys(metadata).flatMap((key) =>
        key.length === 0 ||
        key.length > maxMetadataKeyLength ||
        key.includes("\u0000") ||
        !key.isWellFormed()
          ? [
              {
                path: [key],
                issue: `Expected a metadata key of 1 to ${maxMetadataKeyLength} characters`,
              },
            ]
          : [],
      ),
    ),
  ),
)
export type Metadata = typeof Metadata.Type

const isoDateTime =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/

/**
 * The first and last instants a timestamp may name, in UTC. Outside them a time cannot make the
 * whole trip: JavaScript writes year 10000 as `+010000-01-01T...`, which PostgreSQL refuses and
 * which is no longer the ISO 8601 form every answer, event, cursor and CSV file carries.
 */
export const earliestTimestamp = "1000-01-01T00:00:00.000Z"
export const latestTimestamp = "9999-12-31T23:59:59.999Z"
const earliestMillis = Date.parse(earliestTimestamp)
const latestMillis = Date.parse(latestTimestamp)

const formatIssue = "Expected an ISO 8601 date-time with a time zone, such as 2026-01-31T12:00:00Z"

/** Epoch milliseconds of a date-time written as `Timestamp` takes it, or what is wrong with it. */
const parseTimestamp = (s: string): number | string => {
  const m = isoDateTime.exec(s)
  if (m === null) return formatIssue
  const fraction = m[7] ?? ""
  const sign = m[8] === "-" ? -1 : 1
  const [year, month, day, hour, minute, second, , , offH, offM] = m
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)))
  const calendar = new Date(Date.UTC(year!, month! - 1, day!))
  const real =
    year! >= 1000 &&
    calendar.getUTCFullYear() === year &&
    calendar.getUTCMonth() === month! - 1 &&
    calendar.getUTCDate() === day &&
    hour! < 24 &&
    minute! < 60 &&
    second! < 60 &&
    offH! < 16 &&
    offM! < 60
  if (!real) return formatIssue
  // PostgreSQL would keep microseconds, but every answer (and so every cursor) has milliseconds:
  // a finer time would come back as another one.
  if (/[1-9]/.test(fraction.slice(3))) {
    return "Expected at most millisecond precision: no digit other than 0 after the third decimal"
  }
  const millis =
    Date.UTC(
      year!,
      month! - 1,
      day!,
      hour!,
      minute!,
      second!,
      Number(fraction.padEnd(3, "0").slice(0, 3)),
    ) -
    sign * (offH! * 60 + offM!) * 60_000
  if (millis < earliestMillis || millis > latestMillis) {
    return `Expected a time from ${earliestTimestamp} to ${latestTimestamp} once converted to UTC`
  }
  return millis
}

/** Epoch milliseconds of a valid `Timestamp`, whatever its offset; NaN for anything else. */
export const timestampMillis = (s: string): number => {
  const millis = parseTimestamp(s)
  return typeof millis === "number" ? millis : Number.NaN
}

/**
 * An ISO 8601 date-time with a UTC designator or offset, e.g. `2026-01-31T12:00:00Z`, at most to
 * the millisecond, in years 1000 to 9999 once converted to UTC.
 */
export const Timestamp = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter((s: string) => {
      const millis = parseTimestamp(s)
      return typeof millis === "number" || millis
    }),
  ),
)
export type Timestamp = typeof Timestamp.Type

export const Limit = Schema.Number.pipe(
  Schema.check(
    Schema.isInt({ message: "Expected an integer" }),
    Schema.isBetween({ minimum: 1, maximum: 200 }, { message: "Expected a limit from 1 to 200" }),
  ),
)

export const defaultLimit = 50

/** Where a page ended: the sort key of its last item. */
export interface CursorPosition {
  readonly at: string
  readonly id: string
}

export const encodeCursor = (position: CursorPosition): string =>
  Base64Url.encode(`${position.at}|${position.id}`)

export const decodeCursor = (cursor: string): CursorPosition | undefined => {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined
  const text = Base64Url.decodeString(cursor)
  if (Result.isFailure(text)) return undefined
  const [at, id, ...rest] = text.success.split("|")
  if (at === undefined || id === undefined || rest.length > 0) return undefined
  if (typeof parseTimestamp(at) !== "number" || !/^[a-z]{3}_[0-9a-z]{26}$/.test(id)) {
    return undefined
  }
  return { at, id }
}

/** Opaque: the `nextCursor` of the previous page, passed back unchanged. */
export const Cursor = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (s: string) =>
        decodeCursor(s) !== undefined || "Expected a cursor returned as nextCursor by a list call",
    ),
  ),
)

export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null
  readonly hasMore: boolean
}

/** SHA-256 of the text's UTF-8 bytes, as lower-case hex. */
export const sha256Hex = async (text: string) => {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("")
}

/**
 * How the use cases compute `sha256Hex` (request hashes, API-key hashes): WebCrypto's by
 * default, which runs each digest as a job on another thread and answers through a promise. A
 * process may provide a digest that answers at once (node:crypto's), the same bytes cheaper.
 */
export const Sha256 = Context.Reference<(text: string) => Effect.Effect<string>>(
  "@txn/domain/Sha256",
  { defaultValue: () => (text) => Effect.promise(() => sha256Hex(text)) },
)
