import {
  AccountId,
  Currency,
  Direction,
  decodeCursor,
  defaultLimit,
  type ListTransactions,
  Metadata,
  type Transaction,
  TransactionId,
  TransactionStatus,
  TransferId,
  type UserId,
  UserId as UserIdSchema,
} from "@txn/domain"
import * as Schema from "effect/Schema"
import type * as SqlClient from "effect/sql/SqlClient"
import { containsPattern, type DecodedRow, rowCodec, withoutTransforms } from "../rows.ts"

/**
 * A `transactions` row as the driver returns it, under the domain's field names: the one
 * description of the table's columns. The column list and the decoding into a Transaction are
 * derived from it (see `rowCodec`).
 */
export const TransactionRow = Schema.Struct({
  id: TransactionId,
  accountId: AccountId,
  userId: UserIdSchema,
  direction: Direction,
  amount: Schema.BigInt,
  currency: Currency,
  status: TransactionStatus,
  description: Schema.NullOr(Schema.String),
  category: Schema.NullOr(Schema.String),
  counterparty: Schema.NullOr(Schema.String),
  reference: Schema.NullOr(Schema.String),
  occurredAt: Schema.Date,
  expiresAt: Schema.NullOr(Schema.Date),
  metadata: Metadata,
  version: Schema.Number,
  reversalOf: Schema.NullOr(TransactionId),
  reversedBy: Schema.NullOr(TransactionId),
  transferId: Schema.NullOr(TransferId),
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
})
export type TransactionRow = typeof TransactionRow.Type

const codec = rowCodec(TransactionRow)

/** A decoded row is a Transaction, field for field; this fails to compile if the two drift. */
const decoded = (row: DecodedRow<TransactionRow>): Transaction => row

export const toTransaction = (row: TransactionRow): Transaction => decoded(codec.decode(row))

/** Every column of `transactions`, in the row schema's order. */
export const columns = codec.columns

/** `columns` under the row schema's field names, for a client without result transforms. */
export const fieldColumns = codec.fieldColumns

/** `columns`, each qualified by `alias`. */
export const prefixed = (alias: string) =>
  columns
    .split(", ")
    .map((column) => `${alias}.${column}`)
    .join(", ")

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

/** Only rows of these accounts: a client token limited to some accounts sees no others. */
export const withinAccounts = (sql: SqlClient.SqlClient, within: ReadonlyArray<AccountId>) =>
  sql`account_id = any(${`{${within.join(",")}}`}::text[])`

/**
 * The statement behind `list`: one page plus one row (to tell whether more follow), newest
 * first. Each filter's index gives this order, so a page reads an index range however large the
 * table is; the tests check the plans.
 */
export const listStatement = (
  sql: SqlClient.SqlClient,
  userId: UserId,
  q: ListTransactions,
  within?: ReadonlyArray<AccountId> | null,
) => {
  const raw = withoutTransforms(sql)
  const limit = q.limit ?? defaultLimit
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)
  const conditions = [
    ...listConditions(sql, userId, q),
    ...(within == null ? [] : [withinAccounts(sql, within)]),
    ...(after === undefined
      ? []
      : [sql`(occurred_at, id) < (${after.at}::timestamptz, ${after.id})`]),
  ]
  return raw<TransactionRow>`
    select ${raw.literal(fieldColumns)} from transactions where ${sql.and(conditions)}
    order by occurred_at desc, id desc
    limit ${limit + 1}`
}
