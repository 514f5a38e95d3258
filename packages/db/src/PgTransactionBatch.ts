import {
  type BalanceAccount,
  balanceDeltas,
  balanceLimit,
  batchBalanceRefusals,
  batchRefusal,
  type IdempotencyRecord,
  type Transaction,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import type * as SqlClient from "effect/sql/SqlClient"
import type * as Statement from "effect/sql/Statement"
import { keyLifetime } from "./PgIdempotencyStore.ts"
import { columns } from "./transactions/rows.ts"

/** One element of a PostgreSQL array literal: numbers bare, text quoted (escaped only if needed). */
const element = (value: string | number | bigint | null) => {
  if (value === null) return "NULL"
  if (typeof value !== "string") return String(value)
  return value.includes('"') || value.includes("\\")
    ? `"${value.replace(/["\\]/g, "\\$&")}"`
    : `"${value}"`
}

/** A PostgreSQL array literal of `values` (`null` as SQL NULL), for one `::type[]` parameter. */
const arrayOf = (values: ReadonlyArray<string | number | bigint | null>) =>
  `{${values.map(element).join(",")}}`

/**
 * JSON documents as one JSON array, for `jsonArray`: already JSON, they go as they are, where an
 * array literal would escape every quote in them.
 */
const jsonArrayOf = (documents: ReadonlyArray<string>) => `[${documents.join(",")}]`

/** A `jsonArrayOf` parameter as a `jsonb[]`, its elements in order. */
const jsonArray = (sql: SqlClient.SqlClient, documents: string) =>
  sql`array(select value from jsonb_array_elements(${documents}::jsonb)
             with ordinality as e(value, n) order by n)`

/**
 * The `created` event's changes: every field, from nothing to its value, in the transaction's
 * field order; the JSON `JSON.stringify` gives the same object, written without building it.
 */
export const createdChanges = (t: Transaction) =>
  `{${Object.keys(t)
    .map(
      (field) =>
        `${JSON.stringify(field)}:{"from":null,"to":${JSON.stringify(t[field as keyof Transaction])}}`,
    )
    .join(",")}}`

/** The columns of `unnest`'s rows: the table's, then the event's and ledger entry's, then the order. */
const itemColumns = `${columns}, changes, posted_delta, pending_credits_delta, pending_debits_delta`

/**
 * `unnest` of the batch, one row per transaction in batch order with `ord` its position: the
 * table's columns, its `created` event's changes and its ledger entry's deltas, then `extra`
 * (typed array parameters, one more column each, named by `extraColumns`). Each column goes as one
 * typed array (JSON ones as one JSON array), which PostgreSQL reads once.
 */
const items = (
  sql: SqlClient.SqlClient,
  batch: ReadonlyArray<Transaction>,
  extra: { readonly arrays: Statement.Fragment; readonly columns: string } = {
    arrays: sql``,
    columns: "",
  },
) => {
  const deltas = batch.map((t) => balanceDeltas(t, null, t.status))
  const of = (f: (t: Transaction) => string | number | bigint | null) => arrayOf(batch.map(f))
  return sql`unnest(
    ${of((t) => t.id)}::text[], ${of((t) => t.accountId)}::text[], ${of((t) => t.userId)}::text[],
    ${of((t) => t.direction)}::text[], ${of((t) => t.amount)}::bigint[],
    ${of((t) => t.currency)}::text[], ${of((t) => t.status)}::text[],
    ${of((t) => t.description)}::text[], ${of((t) => t.category)}::text[],
    ${of((t) => t.counterparty)}::text[], ${of((t) => t.reference)}::text[],
    ${of((t) => t.occurredAt)}::timestamptz[], ${of((t) => t.expiresAt)}::timestamptz[],
    ${jsonArray(sql, jsonArrayOf(batch.map((t) => JSON.stringify(t.metadata))))},
    ${of((t) => t.version)}::integer[], ${of((t) => t.reversalOf)}::text[],
    ${of((t) => t.reversedBy)}::text[], ${of((t) => t.transferId)}::text[],
    ${of((t) => t.createdAt)}::timestamptz[], ${of((t) => t.updatedAt)}::timestamptz[],
    ${jsonArray(sql, jsonArrayOf(batch.map(createdChanges)))},
    ${arrayOf(deltas.map((d) => d.posted))}::bigint[],
    ${arrayOf(deltas.map((d) => d.pendingCredits))}::bigint[],
    ${arrayOf(deltas.map((d) => d.pendingDebits))}::bigint[]${extra.arrays}
  ) with ordinality as r(${sql.literal(itemColumns)}${sql.literal(extra.columns)}, ord)`
}

/**
 * The writes of the items of CTE `source` (rows of `items`): `inserted` (the transactions, each
 * answering its id), their `created` events by `actor`, their ledger entries, and their accounts'
 * balances changed by each account's sum, all in batch order.
 */
const writes = (sql: SqlClient.SqlClient, source: string, actor: Statement.Fragment) => {
  const cols = sql.literal(columns)
  const from = sql.literal(source)
  return sql`inserted as (
      insert into transactions (${cols})
      select ${cols} from ${from} order by ord
      returning id
    ), event as (
      insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
      select id, user_id, version, 'created', ${actor}, changes, created_at from ${from} order by ord
    ), balance as (
      update accounts a
         set posted_balance = a.posted_balance + d.posted,
             pending_credits = a.pending_credits + d.pending_credits,
             pending_debits = a.pending_debits + d.pending_debits
        from (select account_id, sum(posted_delta) as posted,
                     sum(pending_credits_delta) as pending_credits,
                     sum(pending_debits_delta) as pending_debits
                from ${from} group by account_id) d
       where a.id = d.account_id
    ), entry as (
      insert into ledger_entries
        (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
      select account_id, id, posted_delta, pending_credits_delta, pending_debits_delta, created_at
        from ${from} order by ord
    )`
}

/**
 * Inserts a batch of transactions with, for each, its `created` event, its ledger entry and its
 * share of the account's balance change, in two statements whatever the batch size: one locks
 * the accounts (in id order, as every writer does, so batches and single writes never deadlock
 * on each other), one writes everything from one typed array per column and answers only how many rows it
 * inserted. The checks of funds and
 * limits run between them on the locked balances (exact, on bigint); the table's checks stay
 * the last guard. Run inside a database transaction.
 */
export const insertTransactions = (
  sql: SqlClient.SqlClient,
  batch: ReadonlyArray<Transaction>,
  actor: string,
) =>
  Effect.gen(function* () {
    const ids = [...new Set(batch.map((t) => t.accountId))]
    const locked = yield* sql<{
      readonly id: string
      readonly allowNegative: boolean
      readonly posted: string
      readonly pendingCredits: string
      readonly pendingDebits: string
    }>`
      select id, allow_negative, posted_balance::text as posted,
             pending_credits::text as pending_credits, pending_debits::text as pending_debits
        from accounts where id in ${sql.in(ids)} order by id for update`
    const accounts = new Map(
      locked.map((row): [string, BalanceAccount] => [
        row.id,
        {
          id: row.id,
          allowNegative: row.allowNegative,
          balance: {
            posted: BigInt(row.posted),
            pendingCredits: BigInt(row.pendingCredits),
            pendingDebits: BigInt(row.pendingDebits),
          },
        },
      ]),
    )
    const refusal = batchRefusal(
      batchBalanceRefusals(accounts, batch).map(({ index, error }) => ({
        index,
        field: "amount",
        error,
      })),
    )
    if (refusal !== undefined) return yield* refusal
    const [written] = yield* sql<{ readonly count: number }>`
      with item as (
        select * from ${items(sql, batch)}
      ), ${writes(sql, "item", sql`${actor}`)}
      select count(*)::integer as count from inserted`
    // The rows hold exactly the values sent (timestamps are UTC at millisecond precision, as read
    // back), so the batch is the answer: no row is sent back and decoded again.
    if (written?.count !== batch.length) {
      return yield* Effect.die(new Error(`Wrote ${written?.count} of ${batch.length} transactions`))
    }
    return batch
  })

/** One single create of a group: its transaction, who makes it, and its idempotency key. */
export interface GroupedCreate {
  readonly transaction: Transaction
  readonly actor: string
  readonly key: IdempotencyRecord | undefined
}

/**
 * Single creates of several callers in one statement, so in one round trip and one commit, each
 * as `createStatement` writes one: its key holding its answer (an expired key is taken over), the
 * balance, the row, its `created` event and its ledger entry. The accounts are locked in id order,
 * as every writer locks them. An account is written only when its items fit whatever order they
 * came in: with all of its credits and none of its debits, and with all of its debits and none of
 * its credits, every figure stays within the bounds `balanceRefusal` keeps (funds included); then
 * no order of them could be refused, and taking them all is what taking them one by one would
 * have done. Items of other accounts are not written: the statement answers those accounts as
 * `unfit`, and the caller decides their items one at a time. Besides the ids of the transactions
 * it wrote, it answers the accounts it wrote as `fitting`. An item whose key is taken, or whose account is not the user's in
 * that currency, is not written either, as in `createStatement`. Keys in the same group are
 * distinct (the caller's duty). Sent on its own: a database transaction of its own.
 */
export const createGroupStatement = (
  sql: SqlClient.SqlClient,
  group: ReadonlyArray<GroupedCreate>,
) => {
  const key = (f: (key: IdempotencyRecord) => string) =>
    arrayOf(group.map((g) => (g.key === undefined ? null : f(g.key))))
  const limit = String(balanceLimit)
  const arrays = sql`,
    ${arrayOf(group.map((g) => g.actor))}::text[], ${key((k) => k.key)}::text[],
    ${key((k) => k.operation)}::text[], ${key((k) => k.requestHash)}::text[],
    ${jsonArray(sql, jsonArrayOf(group.map((g) => (g.key === undefined ? "null" : JSON.stringify(g.key.response)))))}`
  return sql<{ readonly outcome: "written" | "fitting" | "unfit"; readonly id: string }>`
    with item as (
      select * from ${items(
        sql,
        group.map((g) => g.transaction),
        { arrays, columns: ", actor, key, operation, request_hash, response" },
      )}
    ), held as (
      select id, user_id, currency, allow_negative, posted_balance, pending_credits, pending_debits
        from accounts where id in (select account_id from item)
       order by id for update
    ), mine as (
      select i.* from item i
        join held h on h.id = i.account_id and h.user_id = i.user_id and h.currency = i.currency
    ), checked as (
      select h.id,
             h.posted_balance + s.posted_credits <= ${sql.literal(limit)}
         and h.posted_balance - s.posted_debits >= -${sql.literal(limit)}
         and h.pending_credits + s.pending_credits <= ${sql.literal(limit)}
         and h.pending_debits + s.pending_debits <= ${sql.literal(limit)}
         and h.posted_balance + h.pending_credits + s.posted_credits + s.pending_credits
             <= ${sql.literal(limit)}
         and h.posted_balance - h.pending_debits - s.posted_debits - s.pending_debits
             >= case when h.allow_negative then -${sql.literal(limit)} else 0 end as fits
        from held h
        join (select account_id,
                     sum(greatest(posted_delta, 0)) as posted_credits,
                     sum(greatest(-posted_delta, 0)) as posted_debits,
                     sum(pending_credits_delta) as pending_credits,
                     sum(pending_debits_delta) as pending_debits
                from mine group by account_id) s on s.account_id = h.id
    ), fitting as (
      select id from checked where fits
    ), claim as (
      insert into idempotency_keys
        (user_id, key, operation, request_hash, response, created_at, expires_at)
      select user_id, key, operation, request_hash, response, created_at,
             created_at + ${keyLifetime}::interval
        from mine
       where key is not null and account_id in (select id from fitting)
       order by user_id, key
      on conflict (user_id, key) do update
         set operation = excluded.operation, request_hash = excluded.request_hash,
             response = excluded.response, created_at = excluded.created_at,
             expires_at = excluded.expires_at
       where idempotency_keys.expires_at <= excluded.created_at
      returning user_id, key
    ), go as (
      select * from mine
       where account_id in (select id from fitting)
         and (key is null or (user_id, key) in (select user_id, key from claim))
    ), ${writes(sql, "go", sql`actor`)}
    select 'written' as outcome, id from inserted
    union all
    select case when fits then 'fitting' else 'unfit' end, id from checked`
}
