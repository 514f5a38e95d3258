import * as Context from "effect/Context"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { Limit } from "./Common.ts"
import { TransactionId } from "./Ids.ts"

/** Who made a change: an API key id, `worker` for expiry, `system` otherwise. */
export const Actor = Context.Reference<string>("@txn/domain/Actor", {
  defaultValue: () => "system",
})

export const EventKind = Schema.Literals([
  "created",
  "updated",
  "posted",
  "voided",
  "expired",
  "reversed",
])
export type EventKind = typeof EventKind.Type

/** One field's change; on `created`, `from` is null for every field. */
export interface FieldChange {
  readonly from: unknown
  readonly to: unknown
}

/** An immutable record of one change to a transaction, and the version it produced. */
export interface TransactionEvent {
  /** Position in the user's change feed: increasing, never reused. */
  readonly seq: number
  readonly transactionId: TransactionId
  readonly version: number
  readonly kind: EventKind
  readonly actor: string
  readonly changes: Readonly<Record<string, FieldChange>>
  readonly at: string
}

export const TransactionHistory = Schema.Struct({ id: TransactionId })
export type TransactionHistory = typeof TransactionHistory.Type

/**
 * Where a change feed page ended, opaque to clients. The feed is ordered by the writing database
 * transaction's id, then `seq`, and only shows transactions older than every one still running:
 * so an event that commits late can never sort before a cursor already handed out.
 */
export interface ChangesPosition {
  /** The database transaction id (xid8), as decimal text. */
  readonly xid: string
  readonly seq: number
}

export const encodeChangesCursor = (position: ChangesPosition) =>
  Base64Url.encode(`${position.xid}:${position.seq}`)

export const decodeChangesCursor = (cursor: string): ChangesPosition | undefined => {
  if (cursor.length > 60 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined
  const decoded = Base64Url.decodeString(cursor)
  if (Result.isFailure(decoded)) return undefined
  const match = /^(\d{1,19}):(\d{1,15})$/.exec(decoded.success)
  return match === null ? undefined : { xid: match[1] as string, seq: Number(match[2]) }
}

export const ChangesCursor = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (cursor: string) =>
        decodeChangesCursor(cursor) !== undefined ||
        "Expected a nextCursor returned by transactions.changes",
    ),
  ),
)

/** Every change to the caller's transactions after `cursor`, oldest first. */
export const ListChanges = Schema.Struct({
  cursor: Schema.optionalKey(ChangesCursor),
  limit: Schema.optionalKey(Limit),
})
export type ListChanges = typeof ListChanges.Type

export interface ChangesPage {
  readonly items: ReadonlyArray<TransactionEvent>
  /** Pass back to continue; present even when caught up, so a client can poll from it. */
  readonly nextCursor: string | null
  readonly hasMore: boolean
}
