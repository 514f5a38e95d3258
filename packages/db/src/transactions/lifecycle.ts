import {
  Actor,
  type Transaction,
  type TransactionId,
  type TransactionRepository,
  type UpdateTransaction,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "../DatabaseError.ts"
import { findTransaction } from "./read.ts"
import { columns, prefixed, type TransactionRow, toTransaction } from "./rows.ts"
import { insertTransaction } from "./write.ts"

/** The columns `update` may change (their JSON names in events are the same). */
const updatable = ["description", "category", "counterparty", "reference", "metadata"] as const

type Lifecycle = Pick<
  TransactionRepository["Service"],
  "update" | "transition" | "reverse" | "expire"
>

/** The changes of a transaction after its create, each with its event. */
export const lifecycle = (sql: SqlClient.SqlClient): Lifecycle => {
  const cols = sql.literal(columns)
  const port = atPort(sql)

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

  return {
    update: Effect.fn("TransactionsDb.update")(function* (
      userId: UserId,
      change: UpdateTransaction,
      now: Date,
    ) {
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
            (f) => `'${f}', jsonb_build_object('from', to_jsonb(o.${f}), 'to', to_jsonb(t.${f}))`,
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
    }, port),

    transition: Effect.fn("TransactionsDb.transition")(function* (
      userId: UserId,
      id: TransactionId,
      expectedVersion: number,
      to: "posted" | "voided",
      now: Date,
    ) {
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
      const current = yield* findTransaction(sql, userId, id)
      return Option.isNone(current)
        ? ({ _tag: "Missing" } as const)
        : ({ _tag: "Refused", current: current.value } as const)
    }, port),

    reverse: Effect.fn("TransactionsDb.reverse")(function* (
      userId: UserId,
      expectedVersion: number,
      reversal: Transaction,
      now: Date,
    ) {
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
      const recorded = yield* insertTransaction(sql, reversal)
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
    }, transactionAtPort(sql)),

    // Two statements on purpose: under READ COMMITTED an UPDATE that waited for a concurrent
    // void re-reads the row, but other parts of the same statement keep the older snapshot. The
    // follow-up SELECT takes a new snapshot, so it sees what the concurrent void committed.
    expire: Effect.fn("TransactionsDb.expire")(function* (id: TransactionId, now: Date) {
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
    }, port),
  }
}
