import {
  type AccountId,
  Actor,
  balanceDeltas,
  balanceRefusal,
  type Currency,
  type Direction,
  decodeChangesCursor,
  decodeCursor,
  defaultLimit,
  type EventKind,
  encodeChangesCursor,
  type FieldChange,
  type ListTransactions,
  type Metadata,
  type SummaryTotals,
  type Transaction,
  type TransactionEvent,
  type TransactionId,
  TransactionRepository,
  type TransactionStatus,
  type TransferId,
  type UserId,
} from "@txn/domain"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { insertTransactions } from "./PgTransactionBatch.ts"
import { containsPattern, iso, isoOrNull, pageOf, toNumber } from "./rows.ts"

export interface TransactionRow {
  readonly id: string
  readonly accountId: string
  readonly userId: string
  readonly direction: string
  readonly amount: bigint
  readonly currency: string
  readonly status: string
  readonly description: string | null
  readonly category: string | null
  readonly counterparty: string | null
  readonly reference: string | null
  readonly occurredAt: Date
  readonly expiresAt: Date | null
  readonly metadata: Metadata
  readonly version: number
  readonly reversalOf: string | null
  readonly reversedBy: string | null
  readonly transferId: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
}

export const toTransaction = (row: TransactionRow): Transaction => ({
  id: row.id as TransactionId,
  accountId: row.accountId as AccountId,
  userId: row.userId as UserId,
  direction: row.direction as Direction,
  amount: toNumber(row.amount),
  currency: row.currency as Currency,
  status: row.status as TransactionStatus,
  description: row.description,
  category: row.category,
  counterparty: row.counterparty,
  reference: row.reference,
  occurredAt: iso(row.occurredAt),
  expiresAt: isoOrNull(row.expiresAt),
  metadata: row.metadata,
  version: row.version,
  reversalOf: row.reversalOf as TransactionId | null,
  reversedBy: row.reversedBy as TransactionId | null,
  transferId: row.transferId as TransferId | null,
  createdAt: iso(row.createdAt),
  updatedAt: iso(row.updatedAt),
})

export const columns = `id, account_id, user_id, direction, amount, currency, status, description, category,
  counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of, reversed_by,
  transfer_id, created_at, updated_at`

/** The columns `update` may change (their JSON names in events are the same). */
const updatable = ["description", "category", "counterparty", "reference", "metadata"] as const

const prefixed = (alias: string) =>
  columns
    .split(",")
    .map((column) => `${alias}.${column.trim()}`)
    .join(", ")

interface EventRow {
  readonly seq: string
  readonly transactionId: string
  readonly version: number
  readonly kind: string
  readonly actor: string
  readonly changes: Record<string, FieldChange>
  readonly at: Date
}

const eventCols = "seq::text as seq, transaction_id, version, kind, actor, changes, at"

const toEvent = (row: EventRow): TransactionEvent => ({
  seq: Number(row.seq),
  transactionId: row.transactionId as TransactionId,
  version: row.version,
  kind: row.kind as EventKind,
  actor: row.actor,
  changes: row.changes,
  at: iso(row.at),
})

/**
 * Inserts the transaction, its `created` event, its balance change and ledger entry. The
 * account row is locked first, so concurrent postings to it apply one after another and the
 * checks of funds and balance limits (exact, on bigint) see every earlier one; the table's
 * checks on the same bounds stay the last guard.
 */
export const insertTransaction = (sql: SqlClient.SqlClient, t: Transaction, actor: string) =>
  Effect.gen(function* () {
    const cols = sql.literal(columns)
    const d = balanceDeltas(t, null, t.status)
    const [account] = yield* sql<{
      readonly allowNegative: boolean
      readonly posted: string
      readonly pendingCredits: string
      readonly pendingDebits: string
    }>`
      select allow_negative, posted_balance::text as posted,
             pending_credits::text as pending_credits, pending_debits::text as pending_debits
        from accounts where id = ${t.accountId} for update`
    if (account !== undefined) {
      const refusal = balanceRefusal(
        { id: t.accountId, allowNegative: account.allowNegative },
        {
          posted: BigInt(account.posted),
          pendingCredits: BigInt(account.pendingCredits),
          pendingDebits: BigInt(account.pendingDebits),
        },
        d,
        t.amount,
      )
      if (refusal !== undefined) return yield* refusal
    }
    const created = Object.fromEntries(
      Object.entries(t).map(([field, value]) => [field, { from: null, to: value }]),
    )
    const rows = yield* sql<TransactionRow>`
      with inserted as (
        insert into transactions (${cols})
        values (${t.id}, ${t.accountId}, ${t.userId}, ${t.direction}, ${t.amount},
                ${t.currency}, ${t.status}, ${t.description}, ${t.category},
                ${t.counterparty}, ${t.reference}, ${t.occurredAt}, ${t.expiresAt},
                ${JSON.stringify(t.metadata)}::jsonb, ${t.version}, ${t.reversalOf},
                ${t.reversedBy}, ${t.transferId}, ${t.createdAt}, ${t.updatedAt})
        returning ${cols}
      ), event as (
        insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
        select id, user_id, version, 'created', ${actor}, ${JSON.stringify(created)}::jsonb,
               created_at
          from inserted
      ), balance as (
        update accounts
           set posted_balance = posted_balance + ${d.posted},
               pending_credits = pending_credits + ${d.pendingCredits},
               pending_debits = pending_debits + ${d.pendingDebits}
         where id = ${t.accountId}
      ), entry as (
        insert into ledger_entries
          (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
        select account_id, id, ${d.posted}, ${d.pendingCredits}, ${d.pendingDebits}, created_at
          from inserted
      )
      select ${cols} from inserted`
    return toTransaction(rows[0]!)
  })

/**
 * The filters of a list as SQL conditions (the cursor excepted). Every filter is a column an index
 * leads with after `user_id`; exports select their rows with the same conditions.
 */
export const listConditions = (
  sql: SqlClient.SqlClient,
  userId: UserId,
  q: Omit<ListTransactions, "cursor" | "limit">,
) => [
  sql`user_id = ${userId}`,
  ...(q.accountId === undefined ? [] : [sql`account_id = ${q.accountId}`]),
  ...(q.status === undefined ? [] : [sql`status = ${q.status}`]),
  ...(q.direction === undefined ? [] : [sql`direction = ${q.direction}`]),
  ...(q.category === undefined ? [] : [sql`category = ${q.category}`]),
  ...(q.occurredFrom === undefined ? [] : [sql`occurred_at >= ${q.occurredFrom}::timestamptz`]),
  ...(q.occurredTo === undefined ? [] : [sql`occurred_at < ${q.occurredTo}::timestamptz`]),
  ...(q.minAmount === undefined ? [] : [sql`amount >= ${q.minAmount}`]),
  ...(q.maxAmount === undefined ? [] : [sql`amount <= ${q.maxAmount}`]),
  ...(q.search === undefined ? [] : [sql`search_text ilike ${containsPattern(q.search)}`]),
]

/**
 * The statement behind `list`: one page plus one row (to tell whether more follow), newest
 * first. Each filter's index gives this order, so a page reads an index range however large the
 * table is; the tests check the plans.
 */
export const listStatement = (sql: SqlClient.SqlClient, userId: UserId, q: ListTransactions) => {
  const limit = q.limit ?? defaultLimit
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)
  const conditions = [
    ...listConditions(sql, userId, q),
    ...(after === undefined
      ? []
      : [sql`(occurred_at, id) < (${after.at}::timestamptz, ${after.id})`]),
  ]
  return sql<TransactionRow>`
    select ${sql.literal(columns)} from transactions where ${sql.and(conditions)}
    order by occurred_at desc, id desc
    limit ${limit + 1}`
}

export const layer = Layer.effect(
  TransactionRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cols = sql.literal(columns)

    const findById = (userId: UserId, id: TransactionId) =>
      sql<TransactionRow>`select ${cols} from transactions where id = ${id} and user_id = ${userId}`.pipe(
        Effect.map((rows) => Option.fromNullishOr(rows[0]).pipe(Option.map(toTransaction))),
        Effect.orDie,
        Effect.withSpan("PgTransactionRepository.findById"),
      )

    const insertOne = (t: Transaction, actor: string) => insertTransaction(sql, t, actor)

    /** The balance change and ledger entry of a pending transaction leaving `pending`. */
    const settleSql = (to: "posted" | "voided") =>
      sql.literal(`
          , balance as (
            update accounts a
               set posted_balance = a.posted_balance + ${to === "posted" ? "case c.direction when 'credit' then c.amount else -c.amount end" : "0"},
                   pending_credits = a.pending_credits - case c.direction when 'credit' then c.amount else 0 end,
                   pending_debits = a.pending_debits - case c.direction when 'debit' then c.amount else 0 end
              from changed c where a.id = c.account_id
          ), entry as (
            insert into ledger_entries
              (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
            select account_id, id,
                   ${to === "posted" ? "case direction when 'credit' then amount else -amount end" : "0"},
                   -case direction when 'credit' then amount else 0 end,
                   -case direction when 'debit' then amount else 0 end,
                   updated_at
              from changed
          )`)

    return TransactionRepository.of({
      insert: (t) =>
        Effect.gen(function* () {
          return yield* insertOne(t, yield* Actor)
        }).pipe(
          sql.withTransaction,
          Effect.catchTag("SqlError", Effect.die),
          Effect.withSpan("PgTransactionRepository.insert"),
        ),

      insertMany: (batch) =>
        Effect.gen(function* () {
          return yield* insertTransactions(sql, batch, yield* Actor)
        }).pipe(
          sql.withTransaction,
          Effect.catchTag("SqlError", Effect.die),
          Effect.withSpan("PgTransactionRepository.insertMany"),
        ),

      findById,

      list: (userId, q) => {
        const limit = q.limit ?? defaultLimit
        return listStatement(sql, userId, q).pipe(
          Effect.map((rows) => pageOf(rows, limit, toTransaction, (t) => t.occurredAt)),
          Effect.orDie,
          Effect.withSpan("PgTransactionRepository.list"),
        )
      },

      update: (userId, change, now) =>
        Effect.gen(function* () {
          const actor = yield* Actor
          const { id, expectedVersion, ...fields } = change
          // Only these columns can change; their names are fixed here, never taken from input.
          const changed = updatable.filter((field) => field in fields)
          const sets = [
            ...changed.map((field) =>
              field === "metadata"
                ? sql`metadata = ${JSON.stringify(fields.metadata)}::jsonb`
                : sql`${sql.literal(field)} = ${fields[field] ?? null}`,
            ),
            sql`version = t.version + 1`,
            sql`updated_at = ${now.toISOString()}::timestamptz`,
          ]
          const changes = sql.literal(
            `jsonb_build_object(${changed
              .map(
                (f) =>
                  `'${f}', jsonb_build_object('from', to_jsonb(o.${f}), 'to', to_jsonb(t.${f}))`,
              )
              .join(", ")})`,
          )
          const rows = yield* sql<TransactionRow>`
            with o as (
              select id, ${sql.literal(updatable.join(", "))} from transactions
               where id = ${id} and user_id = ${userId} and version = ${expectedVersion}
               for update
            ), updated as (
              update transactions as t set ${sql.join(", ", false)(sets)}
                from o where t.id = o.id
              returning ${sql.literal(prefixed("t"))}, ${changes} as changes
            ), event as (
              insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
              select id, user_id, version, 'updated', ${actor}, changes, updated_at from updated
            )
            select ${cols} from updated`
          return Option.fromNullishOr(rows[0]).pipe(Option.map(toTransaction))
        }).pipe(Effect.orDie, Effect.withSpan("PgTransactionRepository.update")),

      transition: (userId, id, expectedVersion, to, now) =>
        Effect.gen(function* () {
          const actor = yield* Actor
          const at = now.toISOString()
          const rows = yield* sql<TransactionRow>`
            with o as (
              select id, expires_at from transactions
               where id = ${id} and user_id = ${userId} and version = ${expectedVersion}
                 and status = 'pending'
               for update
            ), changed as (
              update transactions as t
                 set status = ${to}, version = t.version + 1, updated_at = ${at}::timestamptz,
                     expires_at = case when ${to} = 'posted' then null else t.expires_at end
                from o where t.id = o.id
              returning ${sql.literal(prefixed("t"))}, o.expires_at as old_expires_at
            ), event as (
              insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
              select id, user_id, version, ${to}, ${actor},
                     jsonb_build_object('status', jsonb_build_object('from', 'pending', 'to', status))
                     || case when old_expires_at is distinct from expires_at
                          then jsonb_build_object('expiresAt', jsonb_build_object(
                                 'from', txn_iso(old_expires_at), 'to', txn_iso(expires_at)))
                          else '{}'::jsonb end,
                     updated_at
                from changed
            ) ${settleSql(to)}
            select ${cols} from changed`
          if (rows[0] !== undefined) return { _tag: "Done", value: toTransaction(rows[0]) } as const
          // Refused or missing: a fresh statement sees what a concurrent change committed.
          const current = yield* findById(userId, id)
          return Option.isNone(current)
            ? ({ _tag: "Missing" } as const)
            : ({ _tag: "Refused", current: current.value } as const)
        }).pipe(Effect.orDie, Effect.withSpan("PgTransactionRepository.transition")),

      reverse: (userId, expectedVersion, reversal, now) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const actor = yield* Actor
              const originalId = reversal.reversalOf ?? ""
              // Lock the original first, so a concurrent post, void or reversal waits its turn.
              const [locked] = yield* sql<TransactionRow>`
                select ${cols} from transactions
                 where id = ${originalId} and user_id = ${userId}
                 for update`
              if (locked === undefined) return { _tag: "Missing" } as const
              const current = toTransaction(locked)
              if (
                current.version !== expectedVersion ||
                current.status !== "posted" ||
                current.reversalOf !== null
              ) {
                return { _tag: "Refused", current } as const
              }
              const recorded = yield* insertOne(reversal, actor)
              const [original] = yield* sql<TransactionRow>`
                with changed as (
                  update transactions
                     set status = 'reversed', reversed_by = ${recorded.id}, version = version + 1,
                         updated_at = ${now.toISOString()}::timestamptz
                   where id = ${originalId}
                  returning ${cols}
                ), event as (
                  insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
                  select id, user_id, version, 'reversed', ${actor},
                         jsonb_build_object(
                           'status', jsonb_build_object('from', 'posted', 'to', 'reversed'),
                           'reversedBy', jsonb_build_object('from', null, 'to', reversed_by)),
                         updated_at
                    from changed
                )
                select ${cols} from changed`
              return {
                _tag: "Done",
                value: { original: toTransaction(original!), reversal: recorded },
              } as const
            }),
          )
          .pipe(
            Effect.catchTag("SqlError", Effect.die),
            Effect.withSpan("PgTransactionRepository.reverse"),
          ),

      history: (userId, id) =>
        Effect.gen(function* () {
          const [owned] = yield* sql<{ readonly found: boolean }>`
            select exists (select 1 from transactions where id = ${id} and user_id = ${userId}) as found`
          if (!owned?.found) return Option.none()
          const rows = yield* sql<EventRow>`
            select ${sql.literal(eventCols)} from transaction_events
             where transaction_id = ${id} and user_id = ${userId}
             order by version`
          return Option.some(rows.map(toEvent))
        }).pipe(Effect.orDie, Effect.withSpan("PgTransactionRepository.history")),

      changes: (userId, q) =>
        Effect.gen(function* () {
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
        }).pipe(Effect.orDie, Effect.withSpan("PgTransactionRepository.changes")),

      summarize: (userId, q) => {
        const key =
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
        ]
        return sql<{
          readonly key: string | null
          readonly currency: string
          readonly credits: string
          readonly debits: string
          readonly count: string
        }>`
          select ${key} as key, currency,
                 coalesce(sum(amount) filter (where direction = 'credit'), 0)::text as credits,
                 coalesce(sum(amount) filter (where direction = 'debit'), 0)::text as debits,
                 count(*)::text as count
            from transactions where ${sql.and(conditions)}
           group by 1, 2
           order by currency, key nulls last`.pipe(
          Effect.map((rows) =>
            rows.map(
              (row): SummaryTotals => ({
                key: row.key,
                currency: row.currency as Currency,
                credits: BigInt(row.credits),
                debits: BigInt(row.debits),
                count: Number(row.count),
              }),
            ),
          ),
          Effect.orDie,
          Effect.withSpan("PgTransactionRepository.summarize"),
        )
      },

      // Two statements on purpose: under READ COMMITTED an UPDATE that waited for a concurrent
      // void re-reads the row, but other parts of the same statement keep the older snapshot. The
      // follow-up SELECT takes a new snapshot, so it sees what the concurrent void committed.
      expire: (id, now) =>
        Effect.gen(function* () {
          const actor = yield* Actor
          const at = now.toISOString()
          const voided = yield* sql`
            with voided as (
              update transactions
                 set status = 'voided', version = version + 1, updated_at = ${at}::timestamptz
               where id = ${id} and status = 'pending' and expires_at <= ${at}::timestamptz
              returning id, user_id, account_id, direction, amount, version, updated_at
            ), changed as (
              select * from voided
            ), event as (
              insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
              select id, user_id, version, 'expired', ${actor},
                     '{"status": {"from": "pending", "to": "voided"}}'::jsonb, updated_at
                from voided
            ) ${settleSql("voided")}
            select id from voided`
          if (voided.length > 0) return "voided" as const
          const [row] = yield* sql<{ readonly status: string }>`
            select status from transactions where id = ${id}`
          if (row === undefined) return "missing" as const
          return row.status === "pending" ? ("notDue" as const) : ("notPending" as const)
        }).pipe(Effect.orDie, Effect.withSpan("PgTransactionRepository.expire")),

      findExpired: (now, limit) =>
        sql<{ readonly id: string }>`
          select id from transactions
           where status = 'pending' and expires_at <= ${now.toISOString()}::timestamptz
           order by expires_at
           limit ${limit}`.pipe(
          Effect.map((rows) => rows.map((row) => row.id as TransactionId)),
          Effect.orDie,
          Effect.withSpan("PgTransactionRepository.findExpired"),
        ),
    })
  }),
)
