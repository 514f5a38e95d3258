import {
  type BalanceAccount,
  balanceDeltas,
  batchBalanceRefusals,
  batchRefusal,
  type Transaction,
} from "@txn/domain"
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"
import { columns, type TransactionRow, toTransaction } from "./transactions/rows.ts"

/** The record type of one batch item in the statement's JSON: the row, its event and deltas. */
const itemRecord = `
  id text, account_id text, user_id text, direction text, amount bigint, currency text,
  status text, description text, category text, counterparty text, reference text,
  occurred_at timestamptz, expires_at timestamptz, metadata jsonb, version integer,
  reversal_of text, reversed_by text, transfer_id text, created_at timestamptz,
  updated_at timestamptz, ord integer, changes jsonb, posted_delta bigint,
  pending_credits_delta bigint, pending_debits_delta bigint`

const itemOf = (t: Transaction, ord: number) => {
  const d = balanceDeltas(t, null, t.status)
  return {
    id: t.id,
    account_id: t.accountId,
    user_id: t.userId,
    direction: t.direction,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    description: t.description,
    category: t.category,
    counterparty: t.counterparty,
    reference: t.reference,
    occurred_at: t.occurredAt,
    expires_at: t.expiresAt,
    metadata: t.metadata,
    version: t.version,
    reversal_of: t.reversalOf,
    reversed_by: t.reversedBy,
    transfer_id: t.transferId,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    ord,
    changes: Object.fromEntries(
      Object.entries(t).map(([field, value]) => [field, { from: null, to: value }]),
    ),
    posted_delta: d.posted,
    pending_credits_delta: d.pendingCredits,
    pending_debits_delta: d.pendingDebits,
  }
}

/**
 * Inserts a batch of transactions with, for each, its `created` event, its ledger entry and its
 * share of the account's balance change, in two statements whatever the batch size: one locks
 * the accounts (in id order, as every writer does, so batches and single writes never deadlock
 * on each other), one writes everything from a single JSON parameter. The checks of funds and
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
    const cols = sql.literal(columns)
    const items = JSON.stringify(batch.map(itemOf))
    const rows = yield* sql<TransactionRow>`
      with item as (
        select * from jsonb_to_recordset(${items}::jsonb) as r(${sql.literal(itemRecord)})
      ), inserted as (
        insert into transactions (${cols})
        select ${cols} from item order by ord
        returning ${cols}
      ), event as (
        insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
        select id, user_id, version, 'created', ${actor}, changes, created_at
          from item order by ord
      ), balance as (
        update accounts a
           set posted_balance = a.posted_balance + d.posted,
               pending_credits = a.pending_credits + d.pending_credits,
               pending_debits = a.pending_debits + d.pending_debits
          from (select account_id, sum(posted_delta) as posted,
                       sum(pending_credits_delta) as pending_credits,
                       sum(pending_debits_delta) as pending_debits
                  from item group by account_id) d
         where a.id = d.account_id
      ), entry as (
        insert into ledger_entries
          (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
        select account_id, id, posted_delta, pending_credits_delta, pending_debits_delta, created_at
          from item order by ord
      )
      select ${cols} from inserted`
    const byId = new Map(rows.map((row) => [row.id, row]))
    return batch.map((t) => toTransaction(byId.get(t.id)!))
  })
