import {
  Actor,
  balanceDeltas,
  balanceRefusal,
  type IdempotencyRecord,
  type Transaction,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as SqlClient from "effect/sql/SqlClient"
import { DatabaseError, typed } from "../DatabaseError.ts"
import { keyLifetime } from "../PgIdempotencyStore.ts"
import { createdChanges, insertTransactions } from "../PgTransactionBatch.ts"
import { columns, type TransactionRow, toTransaction } from "./rows.ts"

/**
 * One create in one statement, so in one round trip and (sent on its own) its own database
 * transaction: with `key`, the key already holding its answer (an expired one is taken over),
 * then the account's balances, then the row, its `created` event and its ledger entry, each
 * from the step before. The key is only inserted if the user has the account in that currency,
 * and the account only changes if the key was inserted, so a taken key or a missing account
 * writes nothing and answers no row. A duplicate key waits on the first request's row until that
 * commits or rolls back. Updating the account locks its row; under READ COMMITTED the update
 * reapplies to the newest balances once a concurrent posting commits, and the table's checks on
 * those (funds, limits) refuse the statement, key and all, with a check violation.
 */
export const createStatement = (
  sql: SqlClient.SqlClient,
  t: Transaction,
  actor: string,
  key: IdempotencyRecord | undefined,
) => {
  const cols = sql.literal(columns)
  const d = balanceDeltas(t, null, t.status)
  const claim =
    key === undefined
      ? sql``
      : sql`claim as (
          insert into idempotency_keys
            (user_id, key, operation, request_hash, response, created_at, expires_at)
          select ${t.userId}, ${key.key}, ${key.operation}, ${key.requestHash},
                 ${JSON.stringify(key.response)}::jsonb, ${t.createdAt}::timestamptz,
                 ${t.createdAt}::timestamptz + ${keyLifetime}::interval
           where exists (select 1 from accounts
                          where id = ${t.accountId} and user_id = ${t.userId}
                            and currency = ${t.currency})
          on conflict (user_id, key) do update
             set operation = excluded.operation, request_hash = excluded.request_hash,
                 response = excluded.response, created_at = excluded.created_at,
                 expires_at = excluded.expires_at
           where idempotency_keys.expires_at <= excluded.created_at
          returning key
        ),`
  return sql<TransactionRow>`
    with ${claim} balance as (
      update accounts a
         set posted_balance = a.posted_balance + ${d.posted}::bigint,
             pending_credits = a.pending_credits + ${d.pendingCredits}::bigint,
             pending_debits = a.pending_debits + ${d.pendingDebits}::bigint
        ${key === undefined ? sql`` : sql`from claim`}
       where a.id = ${t.accountId} and a.user_id = ${t.userId} and a.currency = ${t.currency}
      returning a.id
    ), inserted as (
      insert into transactions (${cols})
      select ${t.id}, balance.id, ${t.userId}, ${t.direction}, ${t.amount}::bigint,
             ${t.currency}, ${t.status}, ${t.description}, ${t.category}, ${t.counterparty},
             ${t.reference}, ${t.occurredAt}::timestamptz, ${t.expiresAt}::timestamptz,
             ${JSON.stringify(t.metadata)}::jsonb, ${t.version}::integer, ${t.reversalOf},
             ${t.reversedBy}, ${t.transferId}, ${t.createdAt}::timestamptz,
             ${t.updatedAt}::timestamptz
        from balance
      returning ${cols}
    ), event as (
      insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
      select id, user_id, version, 'created', ${actor}, ${createdChanges(t)}::jsonb,
             created_at
        from inserted
    ), entry as (
      insert into ledger_entries
        (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
      select account_id, id, ${d.posted}::bigint, ${d.pendingCredits}::bigint,
             ${d.pendingDebits}::bigint, created_at
        from inserted
    )
    select ${cols} from inserted`
}

/** The account's balances as stored, to tell why it refused a posting. */
const balanceOf = (sql: SqlClient.SqlClient, t: Transaction, lock: boolean) =>
  sql<{
    readonly allowNegative: boolean
    readonly posted: string
    readonly pendingCredits: string
    readonly pendingDebits: string
  }>`
    select allow_negative, posted_balance::text as posted,
           pending_credits::text as pending_credits, pending_debits::text as pending_debits
      from accounts where id = ${t.accountId} ${lock ? sql`for update` : sql``}`.pipe(
    Effect.map(([account]) =>
      account === undefined
        ? undefined
        : balanceRefusal(
            { id: t.accountId, allowNegative: account.allowNegative },
            {
              posted: BigInt(account.posted),
              pendingCredits: BigInt(account.pendingCredits),
              pendingDebits: BigInt(account.pendingDebits),
            },
            balanceDeltas(t, null, t.status),
            t.amount,
          ),
    ),
  )

/** A check of `accounts` refused the balances a statement would have left. */
const isBalanceCheck = (error: unknown): error is DatabaseError =>
  error instanceof DatabaseError && error.sqlState === "23514" && error.table === "accounts"

/**
 * One create as `createStatement` writes it, in autocommit: one round trip. A check violation on
 * the account rolled all of it back; the create is then decided again with the account row
 * locked, in a database transaction of its own, so the balances read and the balances written are
 * the same ones: `balanceRefusal` (the rule's one home) names the refusal, or the write goes in.
 * Inside an open database transaction a check violation would abort it, so there the account is
 * locked and checked first, and the statement never meets the checks.
 */
export const createTransaction = (
  sql: SqlClient.SqlClient,
  t: Transaction,
  key: IdempotencyRecord | undefined,
) =>
  Effect.gen(function* () {
    const actor = yield* Actor
    const locked = Effect.gen(function* () {
      const refusal = yield* typed(balanceOf(sql, t, true))
      if (refusal !== undefined) return yield* refusal
      const rows = yield* typed(createStatement(sql, t, actor, key))
      return Option.fromNullishOr(rows[0]).pipe(Option.map(toTransaction))
    })
    const open = yield* Effect.serviceOption(sql.transactionService)
    if (Option.isSome(open)) return yield* locked
    const written = yield* typed(createStatement(sql, t, actor, key)).pipe(
      Effect.map((rows) => Option.fromNullishOr(rows[0]).pipe(Option.map(toTransaction))),
      Effect.catchIf(isBalanceCheck, (error) => Effect.succeed(error)),
    )
    if (!(written instanceof DatabaseError)) return written
    return yield* typed(sql.withTransaction(locked))
  })

/**
 * Inserts the transaction with its `created` event, balance change and ledger entry, inside a
 * database transaction (a transfer's legs, a reversal): the account row is locked first, so the
 * checks of funds and limits (exact, on bigint) see every earlier posting.
 */
export const insertTransaction = (sql: SqlClient.SqlClient, t: Transaction) =>
  Effect.flatMap(createTransaction(sql, t, undefined), (written) =>
    Option.isSome(written)
      ? Effect.succeed(written.value)
      : Effect.die(new Error(`Account ${t.accountId} of ${t.userId} in ${t.currency} is missing`)),
  )

/** A batch of transactions, set-based (see `insertTransactions`), inside a database transaction. */
export const insertMany = (sql: SqlClient.SqlClient, batch: ReadonlyArray<Transaction>) =>
  Effect.gen(function* () {
    return yield* insertTransactions(sql, batch, yield* Actor)
  })
