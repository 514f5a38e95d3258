import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { AccountId, type UserId } from "./Ids.ts"
import { ChangesCursor, type ChangesPosition, type TransactionEvent } from "./TransactionEvent.ts"

/** A change as live subscribers receive it: the history event and the account it is on. */
export interface LiveChange extends TransactionEvent {
  readonly accountId: AccountId
}

/** One entry of the change feed with its position, as `transactions.changes` orders them. */
export interface FeedEntry {
  readonly position: ChangesPosition
  readonly userId: UserId
  readonly change: LiveChange
}

/** Whether `a` comes after `b` in the feed's order (database transaction, then sequence). */
export const isAfter = (a: ChangesPosition, b: ChangesPosition | undefined) => {
  if (b === undefined) return true
  const [x, y] = [BigInt(a.xid), BigInt(b.xid)]
  return x === y ? a.seq > b.seq : x > y
}

/**
 * The change feed read across users, for live subscriptions: the same entries, in the same
 * order and with the same settled horizon as `transactions.changes`.
 */
export class ChangeFeed extends Context.Service<
  ChangeFeed,
  {
    /** The last settled entry's position now; undefined while the feed is empty. */
    readonly head: Effect.Effect<ChangesPosition | undefined>
    /**
     * The settled entries of these users after `position` (from the start when undefined),
     * oldest first, at most `limit`; only these accounts' when `accountIds` is given.
     */
    readonly after: (query: {
      readonly position: ChangesPosition | undefined
      readonly userIds: ReadonlyArray<UserId>
      readonly accountIds?: ReadonlyArray<AccountId> | undefined
      readonly limit: number
    }) => Effect.Effect<ReadonlyArray<FeedEntry>>
  }
>()("@txn/domain/ChangeFeed") {}

/**
 * A live subscription's input: one account's changes or all of the caller's, from now or after
 * the id of the last event received (an SSE client's `Last-Event-ID`, tRPC's `lastEventId`).
 */
export const LiveChanges = Schema.Struct({
  accountId: Schema.optionalKey(AccountId),
  lastEventId: Schema.optionalKey(Schema.NullOr(ChangesCursor)),
})
export type LiveChanges = typeof LiveChanges.Type
