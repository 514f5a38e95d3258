import { encodeCursor, type Page } from "@txn/domain"
import type * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import type * as SqlClient from "effect/sql/SqlClient"

/** Values as the driver returns them: timestamptz as Date, bigint as bigint. */
export const iso = (value: Date): string => value.toISOString()

export const isoOrNull = (value: Date | null): string | null => (value === null ? null : iso(value))

/** Amounts are checked in the database to be at most 2^53-1, so the conversion is exact. */
export const toNumber = (value: bigint | number | string): number => Number(value)

const rawClients = new WeakMap<SqlClient.SqlClient, SqlClient.SqlClient>()

/** `sql` without result transforms, made once per client: each call of its own builds a client. */
export const withoutTransforms = (sql: SqlClient.SqlClient): SqlClient.SqlClient => {
  let raw = rawClients.get(sql)
  if (raw === undefined) {
    raw = sql.withoutTransforms()
    rawClients.set(sql, raw)
  }
  return raw
}

/** Turns user text into a LIKE pattern that matches it literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, "\\$&")}%`

/**
 * A page from `limit + 1` rows newest first: the extra row only says whether more follow. The
 * cursor is the sort key (time, id) of the last item kept.
 */
export const pageOf = <Row, A extends { readonly id: string }>(
  rows: ReadonlyArray<Row>,
  limit: number,
  toItem: (row: Row) => A,
  sortTime: (item: A) => string,
): Page<A> => {
  const items = rows.slice(0, limit).map(toItem)
  const hasMore = rows.length > limit
  const last = items.at(-1)
  return {
    items,
    hasMore,
    nextCursor:
      hasMore && last !== undefined ? encodeCursor({ at: sortTime(last), id: last.id }) : null,
  }
}

/** A row field as it becomes in the domain: timestamps as ISO strings, bigints as numbers. */
type Decoded<V> = [V] extends [Date]
  ? string
  : [V] extends [Date | null]
    ? [Exclude<V, null>] extends [Date]
      ? string | null
      : V
    : [V] extends [bigint]
      ? number
      : V

export type DecodedRow<Row> = { readonly [K in keyof Row]: Decoded<Row[K]> }

type FieldKind = "as is" | "timestamp" | "timestamp or null" | "bigint"

const kindOf = (ast: SchemaAST.AST): FieldKind => {
  if (ast._tag === "BigInt") return "bigint"
  if (ast._tag === "Declaration") return "timestamp"
  if (ast._tag === "Union" && ast.types.some((member) => member._tag === "Declaration")) {
    return "timestamp or null"
  }
  return "as is"
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)

/**
 * What follows from a row schema (its fields as the driver returns them, under their camelCase
 * names): the column list in field order, for `select`, `insert` and `returning`, and the
 * decoding of a row into the domain's shape. The decoding only converts (Date fields to ISO
 * strings, bigint fields to numbers): the table's own checks guarantee the rest, and a
 * validating decode of every row would cost more than the query.
 */
export const rowCodec = <Fields extends Schema.Struct.Fields>(schema: Schema.Struct<Fields>) => {
  type Row = Schema.Struct.Type<Fields>
  const fields = Object.entries(schema.fields).map(
    ([name, field]) => [name, kindOf(field.ast)] as const,
  )
  const decode = (row: Row): DecodedRow<Row> => {
    const out: Record<string, unknown> = {}
    const source = row as Record<string, unknown>
    for (const [name, kind] of fields) {
      const value = source[name]
      out[name] =
        kind === "as is"
          ? value
          : kind === "bigint"
            ? toNumber(value as bigint)
            : kind === "timestamp"
              ? iso(value as Date)
              : isoOrNull(value as Date | null)
    }
    return out as DecodedRow<Row>
  }
  return {
    /** Snake-case column names, comma-separated, in the schema's field order. */
    columns: fields.map(([name]) => snakeCase(name)).join(", "),
    /**
     * The same columns under their field names (`occurred_at as "occurredAt"`), for a client
     * without result transforms (`sql.withoutTransforms()`): its rows need no renaming, which
     * otherwise rebuilds every row of a result once more before `decode` builds it again.
     */
    fieldColumns: fields
      .map(([name]) => {
        const column = snakeCase(name)
        return column === name ? column : `${column} as "${name}"`
      })
      .join(", "),
    decode,
  }
}
