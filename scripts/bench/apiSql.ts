/**
 * The API's own statements, sent straight to PostgreSQL by the load scenarios for the database's
 * limit, and the bulk seeding of their accounts.
 */
import { createHash } from "node:crypto"
import type pg from "pg"
import { newId } from "./plain.ts"

const currency = "USD"
export const randomAmount = () => 1 + Math.floor(Math.random() * 1_000)
export const randomDirection = () => (Math.random() < 0.5 ? "credit" : "debit")

/** A create as the loads send it: 1 to 1,000 minor units in a random direction, in USD. */
export const randomCreate = (accountId: string) => ({
  accountId,
  direction: randomDirection(),
  amount: randomAmount(),
  currency,
  description: "Card payment",
})

/**
 * `rows` posted credits (1 to 10,000 minor units, in USD) on each account given, ten minutes apart
 * before now, with their ledger entries and balances: one statement per account. No history
 * events: neither a list page nor a summary reads them.
 */
export const seedRows = async (
  client: pg.Client,
  userId: string,
  accounts: ReadonlyArray<{ readonly id: string; readonly rows: number }>,
) => {
  for (const [i, { id: accountId, rows }] of accounts.entries()) {
    await client.query(
      `with inserted as (
         insert into transactions
           (id, user_id, account_id, direction, amount, currency, status, description,
            occurred_at, created_at, updated_at)
         select 'txn_seed' || lpad($3::text, 2, '0') || lpad(n::text, 20, '0'), $1, $2, 'credit',
                1 + n % 10000, $5, 'posted', 'Card payment ' || n % 997,
                now() - n * interval '10 minutes', now(), now()
           from generate_series(1, $4::int) n
         returning id, amount, created_at
       ), entries as (
         insert into ledger_entries
           (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
         select $2, id, amount, 0, 0, created_at from inserted
       )
       update accounts set posted_balance = posted_balance + (select sum(amount) from inserted)
        where id = $2`,
      [userId, accountId, i, rows, currency],
    )
  }
}

const apiPageQuery = `
  select id, account_id, user_id, direction, amount, currency, status, description, category,
         counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
         reversed_by, transfer_id, created_at, updated_at
    from transactions where user_id = $1 and account_id = $2
   order by occurred_at desc, id desc limit $3`

/** The API's page query, prepared: the first `limit` rows of the account, and one more. */
export const apiPage = (client: pg.Client, userId: string, accountId: string, limit: number) =>
  client.query({ name: "api-page", text: apiPageQuery, values: [userId, accountId, limit + 1] })

/**
 * What the API sends for one create with a key: its one statement (packages/db
 * src/transactions/write.ts, `createStatement`), sent on its own, so its own database transaction.
 * The key goes in with its answer (if the user has the account in that currency), the balance
 * changes only if the key went in, and the row, its `created` event (whose trigger writes the
 * outbox event) and the ledger entry follow from the balance update; the table's checks refuse a
 * debit beyond the funds. The event's changes, the answer and the request's hash are made here, as
 * the API makes them.
 */
const apiWrite = `
  with claim as (
    insert into idempotency_keys (user_id, key, operation, request_hash, response, created_at, expires_at)
    select $3, $11, 'transactions.create', $12, $13::jsonb, $9::timestamptz,
           $9::timestamptz + '7 days'::interval
     where exists (select 1 from accounts where id = $2 and user_id = $3 and currency = $6)
    on conflict (user_id, key) do update
       set operation = excluded.operation, request_hash = excluded.request_hash,
           response = excluded.response, created_at = excluded.created_at,
           expires_at = excluded.expires_at
     where idempotency_keys.expires_at <= excluded.created_at
    returning key
  ), balance as (
    update accounts a
       set posted_balance = a.posted_balance + $7::bigint,
           pending_credits = a.pending_credits + 0::bigint,
           pending_debits = a.pending_debits + 0::bigint
      from claim
     where a.id = $2 and a.user_id = $3 and a.currency = $6
    returning a.id
  ), inserted as (
    insert into transactions
      (id, account_id, user_id, direction, amount, currency, status, description, category,
       counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
       reversed_by, transfer_id, created_at, updated_at)
    select $1, balance.id, $3, $4, $5::bigint, $6, 'posted', $8, null, null, null,
           $9::timestamptz, null, '{}'::jsonb, 1, null, null, null, $9::timestamptz,
           $9::timestamptz
      from balance
    returning id, account_id, user_id, direction, amount, currency, status, description, category,
              counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
              reversed_by, transfer_id, created_at, updated_at
  ), event as (
    insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
    select id, user_id, version, 'created', $10, $14::jsonb, created_at from inserted
  ), entry as (
    insert into ledger_entries
      (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
    select account_id, id, $7::bigint, 0, 0, created_at from inserted
  )
  select id, account_id, user_id, direction, amount, currency, status, description, category,
              counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
              reversed_by, transfer_id, created_at, updated_at from inserted`

export const apiWriteInOneStatement = async (
  client: pg.Client,
  userId: string,
  actor: string,
  accountId: string,
  idempotencyKey: string,
) => {
  const direction = randomDirection()
  const amount = randomAmount()
  const now = new Date().toISOString()
  const transaction = {
    id: newId(),
    accountId,
    userId,
    direction,
    amount,
    currency,
    status: "posted",
    description: "Card payment",
    category: null,
    counterparty: null,
    reference: null,
    occurredAt: now,
    expiresAt: null,
    metadata: {},
    version: 1,
    reversalOf: null,
    reversedBy: null,
    transferId: null,
    createdAt: now,
    updatedAt: now,
  }
  const request = JSON.stringify({ accountId, direction, amount, currency, idempotencyKey })
  const changes = Object.fromEntries(
    Object.entries(transaction).map(([field, value]) => [field, { from: null, to: value }]),
  )
  const { rowCount } = await client.query({
    name: "api-write",
    text: apiWrite,
    values: [
      transaction.id,
      accountId,
      userId,
      direction,
      amount,
      currency,
      direction === "credit" ? amount : -amount,
      transaction.description,
      now,
      actor,
      idempotencyKey,
      createHash("sha256").update(request).digest("hex"),
      JSON.stringify(transaction),
      JSON.stringify(changes),
    ],
  })
  if (rowCount !== 1) throw new Error(`refused on ${accountId}`)
}
