import { encodeCursor, type Page } from "@txn/domain"

/** Values as the driver returns them: timestamptz as Date, bigint as bigint. */
export const iso = (value: Date): string => value.toISOString()

export const isoOrNull = (value: Date | null): string | null => (value === null ? null : iso(value))

/** Amounts are checked in the database to be at most 2^53-1, so the conversion is exact. */
export const toNumber = (value: bigint | number | string): number => Number(value)

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
