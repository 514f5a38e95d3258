import {
  type AccountId,
  type Currency,
  decodeChangesCursor,
  defaultLimit,
  type EventKind,
  encodeChangesCursor,
  type FieldChange,
  type ListChanges,
  type ListTransactions,
  type SummarizeTransactions,
  type SummaryTotals,
  type TransactionEvent,
  type TransactionId,
  type TransactionRepository,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as SqlClient from "effect/sql/SqlClient"
import { atPort } from "../DatabaseError.ts"
import { iso, pageOf, withoutTransforms } from "../rows.ts"
import {
  fieldColumns,
  listStatement,
  type TransactionRow,
  toTransaction,
  withinAccounts,
} from "./rows.ts"
import { makeSummaryCache } from "./summaryCache.ts"

export interface EventRow {
  readonly seq: string
  readonly transactionId: string
  readonly version: number
  readonly kind: string
  readonly actor: string
  readonly changes: Record<string, FieldChange>
  readonly at: Date
}

const eventCols = "seq::text as seq, transaction_id, version, kind, actor, changes, at"

export const toEvent = (row: EventRow): TransactionEvent => ({
  seq: Number(row.seq),
  transactionId: row.transactionId as TransactionId,
  version: row.version,
  kind: row.kind as EventKind,
  actor: row.actor,
  changes: row.changes,
  at: iso(row.at),
})

/** The transaction as it is now, if the user has it; a fresh statement, so a fresh snapshot. */
export const findTransaction = (sql: SqlClient.SqlClient, userId: UserId, id: TransactionId) => {
  const raw = withoutTransforms(sql)
  return raw<TransactionRow>`
    select ${raw.literal(fieldColumns)} from transactions
     where id = ${id} and user_id = ${userId}`.pipe(
    Effect.map((rows) => Option.fromNullishOr(rows[0]).pipe(Option.map(toTransaction))),
  )
}

type Reads = Pick<
  TransactionRepository["Service"],
  "findById" | "list" | "history" | "changes" | "summarize" | "findExpired"
>

/**
 * Whether any change of the user's transactions that `snapshot` did not see has committed since:
 * every write of a transaction writes its history event in the same statement, so one probe of
 * the user's events (`transaction_events_feed_idx`) from the snapshot's oldest running
 * transaction on answers it, however the commits interleaved.
 */
const summaryChangedSince = (sql: SqlClient.SqlClient, userId: UserId, snapshot: string) =>
  sql<{ readonly changed: boolean }>`
    select exists (
      select 1 from transaction_events
       where user_id = ${userId}
         and xid >= pg_snapshot_xmin(${snapshot}::pg_snapshot)
         and not pg_visible_in_snapshot(xid, ${snapshot}::pg_snapshot)
    ) as changed`.pipe(Effect.map(([row]) => row?.changed !== false))

export interface ReadOptions {
  /**
   * Summaries one process keeps, each served again only while no change of its user's
   * transactions has committed since it was computed (0: none kept).
   */
  readonly summaryCacheMax: number
}

/** The reads of transactions and their events. */
export const reads = (sql: SqlClient.SqlClient, options: ReadOptions): Reads => {
  const port = atPort(sql)
  const cache = makeSummaryCache(options.summaryCacheMax)
  return {
    findById: Effect.fn("TransactionsDb.findById")(function* (userId: UserId, id: TransactionId) {
      return yield* findTransaction(sql, userId, id)
    }, port),

    list: Effect.fn("TransactionsDb.list")(function* (
      userId: UserId,
      q: ListTransactions,
      within?: ReadonlyArray<AccountId> | null,
    ) {
      const rows = yield* listStatement(sql, userId, q, within)
      return pageOf(rows, q.limit ?? defaultLimit, toTransaction, (t) => t.occurredAt)
    }, port),

    history: Effect.fn("TransactionsDb.history")(function* (userId: UserId, id: TransactionId) {
      const [owned] = yield* sql<{ readonly found: boolean }>`
        select exists (select 1 from transactions where id = ${id} and user_id = ${userId}) as found`
      if (!owned?.found) return Option.none()
      const rows = yield* sql<EventRow>`
        select ${sql.literal(eventCols)} from transaction_events
         where transaction_id = ${id} and user_id = ${userId}
         order by version`
      return Option.some(rows.map(toEvent))
    }, port),

    changes: Effect.fn("TransactionsDb.changes")(function* (
      userId: UserId,
      q: ListChanges,
      within?: ReadonlyArray<AccountId> | null,
    ) {
      const limit = q.limit ?? defaultLimit
      const after = q.cursor === undefined ? undefined : decodeChangesCursor(q.cursor)
      // Below the oldest transaction still running, (xid, seq) order is final: nothing can
      // commit later into a position a client has already read past. The order names the
      // table's columns: bare `xid, seq` would sort the text aliases of the select list
      // ('10815' before '994'), unlike the cursor condition, which compares numbers.
      const rows = yield* sql<EventRow & { readonly xid: string }>`
        select ${sql.literal(eventCols)}, xid::text as xid from transaction_events
         where user_id = ${userId}
           and xid < pg_snapshot_xmin(pg_current_snapshot())
           ${after === undefined ? sql`` : sql`and (xid, seq) > (${after.xid}::xid8, ${after.seq})`}
           ${
             within == null
               ? sql``
               : sql`and transaction_id in (select id from transactions
                                             where user_id = ${userId} and ${withinAccounts(sql, within)})`
           }
         order by transaction_events.xid, transaction_events.seq
         limit ${limit + 1}`
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      const position = last === undefined ? after : { xid: last.xid, seq: Number(last.seq) }
      return {
        items: page.map(toEvent),
        hasMore: rows.length > limit,
        nextCursor: position === undefined ? null : encodeChangesCursor(position),
      }
    }, port),

    summarize: Effect.fn("TransactionsDb.summarize")(function* (
      userId: UserId,
      q: SummarizeTransactions,
      within?: ReadonlyArray<AccountId> | null,
    ) {
      // Inside a database transaction a summary may see that transaction's own writes: not kept.
      const open = Option.isSome(yield* Effect.serviceOption(sql.transactionService))
      const key = open
        ? undefined
        : JSON.stringify([
            userId,
            within ?? null,
            q.groupBy,
            q.occurredFrom,
            q.occurredTo,
            q.accountId ?? null,
            q.currency ?? null,
          ])
      const cached = key === undefined ? undefined : cache.get(key)
      if (cached !== undefined && !(yield* summaryChangedSince(sql, userId, cached.snapshot))) {
        return cached.totals
      }
      const group =
        q.groupBy === "category"
          ? sql`category`
          : sql`to_char(occurred_at at time zone 'UTC', ${q.groupBy === "day" ? "YYYY-MM-DD" : "YYYY-MM"})`
      const conditions = [
        sql`user_id = ${userId}`,
        sql`status in ('posted', 'reversed')`,
        sql`occurred_at >= ${q.occurredFrom}::timestamptz`,
        sql`occurred_at < ${q.occurredTo}::timestamptz`,
        ...(q.accountId === undefined ? [] : [sql`account_id = ${q.accountId}`]),
        ...(q.currency === undefined ? [] : [sql`currency = ${q.currency}`]),
        ...(within == null ? [] : [withinAccounts(sql, within)]),
      ]
      // The statement's snapshot comes with its totals, in a row of its own when there are none.
      const rows = yield* sql<{
        readonly snapshot: string
        readonly key: string | null
        readonly currency: string | null
        readonly credits: string
        readonly debits: string
        readonly count: string
      }>`
        select s.snapshot, t.key, t.currency, t.credits, t.debits, t.count
          from (select pg_current_snapshot()::text as snapshot) s
          left join lateral (
            select ${group} as key, currency,
                   coalesce(sum(amount) filter (where direction = 'credit'), 0)::text as credits,
                   coalesce(sum(amount) filter (where direction = 'debit'), 0)::text as debits,
                   count(*)::text as count
              from transactions where ${sql.and(conditions)}
             group by 1, 2) t on true
         order by t.currency, t.key nulls last`
      const totals = rows.flatMap(
        (row): Array<SummaryTotals> =>
          row.currency === null
            ? []
            : [
                {
                  key: row.key,
                  currency: row.currency as Currency,
                  credits: BigInt(row.credits),
                  debits: BigInt(row.debits),
                  count: Number(row.count),
                },
              ],
      )
      const snapshot = rows[0]?.snapshot
      if (key !== undefined && snapshot !== undefined) cache.set(key, { snapshot, totals })
      return totals
    }, port),

    findExpired: Effect.fn("TransactionsDb.findExpired")(function* (now: Date, limit: number) {
      const rows = yield* sql<{ readonly id: string }>`
        select id from transactions
         where status = 'pending' and expires_at <= ${now.toISOString()}::timestamptz
         order by expires_at
         limit ${limit}`
      return rows.map((row) => row.id as TransactionId)
    }, port),
  }
}
