import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { Page } from "./Common.ts"
import type { BalanceLimitExceeded, InsufficientFunds } from "./Errors.ts"
import type { IdempotencyRecord } from "./Idempotency.ts"
import type { AccountId, TransactionId, UserId } from "./Ids.ts"
import type {
  ListTransactions,
  Reversal,
  SummarizeTransactions,
  SummaryGroup,
  Transaction,
  UpdateTransaction,
} from "./Transaction.ts"
import type { ChangesPage, ListChanges, TransactionEvent } from "./TransactionEvent.ts"

/** One summary group's totals, exactly: sums of amounts are not bounded. */
export interface SummaryTotals extends Omit<SummaryGroup, "credits" | "debits" | "net"> {
  readonly credits: bigint
  readonly debits: bigint
}

export type ExpireOutcome = "voided" | "notDue" | "notPending" | "missing"

/** How a guarded change went: done, no such transaction, or refused with the row as it is. */
export type Guarded<A> =
  | { readonly _tag: "Done"; readonly value: A }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Refused"; readonly current: Transaction }

/**
 * Storage of transactions; every read and write is scoped to the owning user. Every write also
 * records its event (with the current `Actor`) in the same statement.
 */
export class TransactionRepository extends Context.Service<
  TransactionRepository,
  {
    /**
     * Records the transaction and its effect on the account's balances; a debit the account
     * cannot cover (and may not go negative for) fails with InsufficientFunds, one that would
     * take a balance figure past ±2^53-1 with BalanceLimitExceeded (see `balanceRefusal`).
     */
    readonly insert: (
      transaction: Transaction,
    ) => Effect.Effect<Transaction, InsufficientFunds | BalanceLimitExceeded>
    /**
     * The write of one create, all or nothing: the transaction with its balance change, and with
     * `key` the idempotency key holding its answer. Nothing is recorded (none) when the key is
     * already taken (a request still running with it is waited for) or the user has no such account
     * in the transaction's currency; the caller tells which. Balances are refused as by `insert`.
     */
    readonly create: (
      transaction: Transaction,
      key?: IdempotencyRecord,
    ) => Effect.Effect<Option.Option<Transaction>, InsufficientFunds | BalanceLimitExceeded>
    /**
     * Records every transaction or none, in one database transaction, locking their accounts in
     * id order. Balances are checked by `batchBalanceRefusals`; refused items fail the batch with
     * one error naming them (see `batchRefusal`). Answers the transactions in the order given.
     */
    readonly insertMany: (
      transactions: ReadonlyArray<Transaction>,
    ) => Effect.Effect<ReadonlyArray<Transaction>, InsufficientFunds | BalanceLimitExceeded>
    readonly findById: (
      userId: UserId,
      id: TransactionId,
    ) => Effect.Effect<Option.Option<Transaction>>
    /** The user's transactions, only those of `within`'s accounts when given. */
    readonly list: (
      userId: UserId,
      query: ListTransactions,
      within?: ReadonlyArray<AccountId> | null,
    ) => Effect.Effect<Page<Transaction>>
    /**
     * Posted (and later reversed) transactions' totals; pending and voided ones do not count,
     * nor those outside `within`'s accounts when given.
     */
    readonly summarize: (
      userId: UserId,
      query: SummarizeTransactions,
      within?: ReadonlyArray<AccountId> | null,
    ) => Effect.Effect<ReadonlyArray<SummaryTotals>>
    /** Applies the change only if `expectedVersion` (when given) still matches; none when not. */
    readonly update: (
      userId: UserId,
      change: UpdateTransaction,
      now: Date,
    ) => Effect.Effect<Option.Option<Transaction>>
    /** pending -> posted | voided, if the version still matches and it is still pending. */
    readonly transition: (
      userId: UserId,
      id: TransactionId,
      expectedVersion: number,
      to: "posted" | "voided",
      now: Date,
    ) => Effect.Effect<Guarded<Transaction>>
    /**
     * Records `reversal` and marks the original reversed, if its version still matches, it is
     * posted and it is not itself a reversal.
     */
    readonly reverse: (
      userId: UserId,
      expectedVersion: number,
      reversal: Transaction,
      now: Date,
    ) => Effect.Effect<Guarded<Reversal>, InsufficientFunds | BalanceLimitExceeded>
    /** Voids a pending transaction whose `expiresAt` is at or before `now`. */
    readonly expire: (id: TransactionId, now: Date) => Effect.Effect<ExpireOutcome>
    /** The transaction's events, oldest first; none if the user has no such transaction. */
    readonly history: (
      userId: UserId,
      id: TransactionId,
    ) => Effect.Effect<Option.Option<ReadonlyArray<TransactionEvent>>>
    /**
     * The user's events after the cursor, by `seq`; events of uncommitted writes are held back,
     * and those of transactions outside `within`'s accounts when given.
     */
    readonly changes: (
      userId: UserId,
      query: ListChanges,
      within?: ReadonlyArray<AccountId> | null,
    ) => Effect.Effect<ChangesPage>
    /** Pending transactions already past `expiresAt`, oldest first. */
    readonly findExpired: (now: Date, limit: number) => Effect.Effect<ReadonlyArray<TransactionId>>
  }
>()("@txn/domain/TransactionRepository") {}
