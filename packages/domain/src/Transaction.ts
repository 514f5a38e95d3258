import * as Schema from "effect/Schema"
import { Cursor, Limit, Metadata, Text, Timestamp, timestampMillis } from "./Common.ts"
import { Currency } from "./Currency.ts"
import { IdempotencyKey } from "./Idempotency.ts"
import { AccountId, TransactionId, TransferId, UserId } from "./Ids.ts"
import { Amount } from "./Money.ts"

export const Direction = Schema.Literals(["credit", "debit"])
export type Direction = typeof Direction.Type

/** pending -> posted | voided; posted -> reversed. */
export const TransactionStatus = Schema.Literals(["pending", "posted", "voided", "reversed"])
export type TransactionStatus = typeof TransactionStatus.Type

const Description = Text(1000)
const Category = Text(100)
const Counterparty = Text(200)
const Reference = Text(200)

export const Transaction = Schema.Struct({
  id: TransactionId,
  accountId: AccountId,
  userId: UserId,
  direction: Direction,
  amount: Amount,
  currency: Currency,
  status: TransactionStatus,
  description: Schema.NullOr(Schema.String),
  category: Schema.NullOr(Schema.String),
  counterparty: Schema.NullOr(Schema.String),
  reference: Schema.NullOr(Schema.String),
  occurredAt: Timestamp,
  expiresAt: Schema.NullOr(Timestamp),
  metadata: Metadata,
  version: Schema.Number,
  /** The transaction this one reverses, if it is a reversal. */
  reversalOf: Schema.NullOr(TransactionId),
  /** The reversal of this one, once it is `reversed`. */
  reversedBy: Schema.NullOr(TransactionId),
  /** The transfer this transaction is a leg of, if any. */
  transferId: Schema.NullOr(TransferId),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Transaction = typeof Transaction.Type

/** The fields of one transaction to create, without the request's idempotency key. */
const createFields = {
  accountId: AccountId,
  direction: Direction,
  amount: Amount,
  currency: Currency,
  /** `pending` records a hold; anything else is posted at once. */
  status: Schema.optionalKey(Schema.Literals(["pending", "posted"])),
  description: Schema.optionalKey(Description),
  category: Schema.optionalKey(Category),
  counterparty: Schema.optionalKey(Counterparty),
  reference: Schema.optionalKey(Reference),
  occurredAt: Schema.optionalKey(Timestamp),
  /** Only for pending transactions: the hold is voided when this time passes. */
  expiresAt: Schema.optionalKey(Timestamp),
  metadata: Schema.optionalKey(Metadata),
}

const expiresOnlyWhenPending = Schema.makeFilter(
  (input: { readonly status?: string; readonly expiresAt?: string }) =>
    input.expiresAt === undefined || input.status === "pending"
      ? undefined
      : { path: ["expiresAt"], issue: `Expected expiresAt only with status "pending"` },
)

export const CreateTransaction = Schema.Struct({
  /** Retrying with the same key never records twice; see `idempotent`. */
  idempotencyKey: Schema.optionalKey(IdempotencyKey),
  ...createFields,
}).pipe(Schema.check(expiresOnlyWhenPending))
export type CreateTransaction = typeof CreateTransaction.Type

/** One item of `createMany`: a create without its own idempotency key (the batch has one). */
export const CreateTransactionItem = Schema.Struct(createFields).pipe(
  Schema.check(expiresOnlyWhenPending),
)
export type CreateTransactionItem = typeof CreateTransactionItem.Type

/** The most transactions one `createMany` takes. */
export const maxBatchTransactions = 1000

/** Up to `maxBatchTransactions` creates, recorded all together or not at all. */
export const CreateManyTransactions = Schema.Struct({
  /** Retrying the batch with the same key never records it twice; see `idempotent`. */
  idempotencyKey: Schema.optionalKey(IdempotencyKey),
  transactions: Schema.Array(CreateTransactionItem).pipe(
    Schema.check(
      Schema.isMinLength(1, { message: "Expected at least 1 transaction" }),
      Schema.isMaxLength(maxBatchTransactions, {
        message: `Expected at most ${maxBatchTransactions} transactions in one batch`,
      }),
    ),
  ),
})
export type CreateManyTransactions = typeof CreateManyTransactions.Type

/** What `createMany` answers: the created transactions, in the order they were sent. */
export interface CreatedTransactions {
  readonly transactions: ReadonlyArray<Transaction>
}

export const GetTransaction = Schema.Struct({ id: TransactionId })
export type GetTransaction = typeof GetTransaction.Type

const ExpectedVersion = Schema.Number.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThan(0)))

/** `post` (pending -> posted) and `void` (pending -> voided) take the version last read. */
export const TransitionTransaction = Schema.Struct({
  id: TransactionId,
  expectedVersion: ExpectedVersion,
})
export type TransitionTransaction = typeof TransitionTransaction.Type

/** posted -> reversed, by a new posted transaction in the other direction, linked both ways. */
export const ReverseTransaction = Schema.Struct({
  id: TransactionId,
  expectedVersion: ExpectedVersion,
  /** The reversal's description; by default "Reversal of <id>". */
  description: Schema.optionalKey(Description),
})
export type ReverseTransaction = typeof ReverseTransaction.Type

export interface Reversal {
  readonly original: Transaction
  readonly reversal: Transaction
}

/** Descriptive fields only: amounts, accounts and status never change through an update. */
export const UpdateTransaction = Schema.Struct({
  id: TransactionId,
  /** The version the caller last read; a stale one is a VersionConflict, never a lost update. */
  expectedVersion: Schema.Number.pipe(Schema.check(Schema.isInt(), Schema.isGreaterThan(0))),
  description: Schema.optionalKey(Schema.NullOr(Description)),
  category: Schema.optionalKey(Schema.NullOr(Category)),
  counterparty: Schema.optionalKey(Schema.NullOr(Counterparty)),
  reference: Schema.optionalKey(Schema.NullOr(Reference)),
  metadata: Schema.optionalKey(Metadata),
})
export type UpdateTransaction = typeof UpdateTransaction.Type

const MinorUnits = Schema.Number.pipe(
  Schema.check(
    Schema.isInt({ message: "Expected an integer" }),
    Schema.isBetween(
      { minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      { message: `Expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}` },
    ),
  ),
)

export const ListTransactions = Schema.Struct({
  accountId: Schema.optionalKey(AccountId),
  status: Schema.optionalKey(TransactionStatus),
  direction: Schema.optionalKey(Direction),
  category: Schema.optionalKey(Category),
  /** Inclusive lower bound on occurredAt. */
  occurredFrom: Schema.optionalKey(Timestamp),
  /** Exclusive upper bound on occurredAt. */
  occurredTo: Schema.optionalKey(Timestamp),
  minAmount: Schema.optionalKey(MinorUnits),
  maxAmount: Schema.optionalKey(MinorUnits),
  /** Case-insensitive text search over description, counterparty and reference. */
  search: Schema.optionalKey(
    Text(200).pipe(Schema.check(Schema.isMinLength(1, { message: "Expected search text" }))),
  ),
  limit: Schema.optionalKey(Limit),
  cursor: Schema.optionalKey(Cursor),
})
export type ListTransactions = typeof ListTransactions.Type

/** Totals of posted money over a time range, grouped by category, UTC day or UTC month. */
export const SummarizeTransactions = Schema.Struct({
  groupBy: Schema.Literals(["category", "day", "month"]),
  /** Inclusive lower bound on occurredAt. */
  occurredFrom: Timestamp,
  /** Exclusive upper bound on occurredAt. */
  occurredTo: Timestamp,
  accountId: Schema.optionalKey(AccountId),
  currency: Schema.optionalKey(Currency),
}).pipe(
  Schema.check(
    Schema.makeFilter((input) =>
      timestampMillis(input.occurredFrom) < timestampMillis(input.occurredTo)
        ? undefined
        : { path: ["occurredTo"], issue: "Expected occurredTo after occurredFrom" },
    ),
  ),
)
export type SummarizeTransactions = typeof SummarizeTransactions.Type

/**
 * One group's totals in one currency (amounts in minor units; never summed across currencies).
 * `key` is the category (null for none), the day (`2026-03-01`) or the month (`2026-03`).
 */
export interface SummaryGroup {
  readonly key: string | null
  readonly currency: Currency
  readonly credits: number
  readonly debits: number
  /** credits - debits */
  readonly net: number
  readonly count: number
}

export interface TransactionSummary {
  readonly groupBy: SummarizeTransactions["groupBy"]
  readonly occurredFrom: string
  readonly occurredTo: string
  /** Ordered by currency, then key (null last). */
  readonly groups: ReadonlyArray<SummaryGroup>
}
