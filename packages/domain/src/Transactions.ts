import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AccountRepository } from "./AccountRepository.ts"
import { exactFigure } from "./Balances.ts"
import type { Page } from "./Common.ts"
import {
  type BalanceLimitExceeded,
  batchRefusal,
  type CurrencyMismatch,
  type IdempotencyKeyReused,
  type InsufficientFunds,
  type InvalidStateTransition,
  NotFound,
  type RefusedItem,
  ValidationError,
  VersionConflict,
} from "./Errors.ts"
import { ensureReached, Grant, reaches } from "./Grant.ts"
import { HoldScheduler } from "./HoldScheduler.ts"
import {
  IdempotencyStore,
  idempotent,
  keyReused,
  type MaybeReplayed,
  requestHash,
} from "./Idempotency.ts"
import { newTransactionId, type TransactionId, type UserId } from "./Ids.ts"
import type {
  CreatedTransactions,
  CreateManyTransactions,
  CreateTransaction,
  CreateTransactionItem,
  GetTransaction,
  ListTransactions,
  Reversal,
  ReverseTransaction,
  SummarizeTransactions,
  SummaryGroup,
  Transaction,
  TransactionSummary,
  TransitionTransaction,
  UpdateTransaction,
} from "./Transaction.ts"
import type {
  ChangesPage,
  ListChanges,
  TransactionEvent,
  TransactionHistory,
} from "./TransactionEvent.ts"
import { type ExpireOutcome, TransactionRepository } from "./TransactionRepository.ts"
import { currencyMismatch, isPast, newTransaction, refusal, toUtc } from "./TransactionRules.ts"

/**
 * How many times a create writes before giving up: again only when nothing was recorded and
 * nothing explains why (its key expired meanwhile, say), which a second write settles.
 */
const recordAttempts = 3

/** Why a create, single or batch, is refused. */
type CreateTransactionError =
  | NotFound
  | CurrencyMismatch
  | ValidationError
  | InsufficientFunds
  | BalanceLimitExceeded
  | IdempotencyKeyReused

/**
 * Transaction use cases, on behalf of one user (or of the system, for expiry), within the
 * caller's `Grant`: a client token limited to some accounts sees and changes only their
 * transactions; the others answer NotFound, as another user's do.
 */
export class Transactions extends Context.Service<
  Transactions,
  {
    readonly create: (
      userId: UserId,
      input: CreateTransaction,
    ) => Effect.Effect<MaybeReplayed<Transaction>, CreateTransactionError>
    /**
     * Records every item or none, in one database transaction: a bad item refuses the batch
     * with one error naming its index and field (see `batchRefusal`); balances are checked as
     * if the items were created one after another, in order.
     */
    readonly createMany: (
      userId: UserId,
      input: CreateManyTransactions,
    ) => Effect.Effect<MaybeReplayed<CreatedTransactions>, CreateTransactionError>
    readonly get: (userId: UserId, input: GetTransaction) => Effect.Effect<Transaction, NotFound>
    readonly list: (userId: UserId, input: ListTransactions) => Effect.Effect<Page<Transaction>>
    readonly summary: (
      userId: UserId,
      input: SummarizeTransactions,
    ) => Effect.Effect<TransactionSummary, ValidationError>
    readonly update: (
      userId: UserId,
      input: UpdateTransaction,
    ) => Effect.Effect<Transaction, NotFound | VersionConflict | ValidationError>
    readonly post: (
      userId: UserId,
      input: TransitionTransaction,
    ) => Effect.Effect<Transaction, NotFound | VersionConflict | InvalidStateTransition>
    readonly void: (
      userId: UserId,
      input: TransitionTransaction,
    ) => Effect.Effect<Transaction, NotFound | VersionConflict | InvalidStateTransition>
    readonly reverse: (
      userId: UserId,
      input: ReverseTransaction,
    ) => Effect.Effect<
      Reversal,
      NotFound | VersionConflict | InvalidStateTransition | InsufficientFunds | BalanceLimitExceeded
    >
    readonly history: (
      userId: UserId,
      input: TransactionHistory,
    ) => Effect.Effect<ReadonlyArray<TransactionEvent>, NotFound>
    readonly changes: (userId: UserId, input: ListChanges) => Effect.Effect<ChangesPage>
    /** Voids a pending hold once its `expiresAt` has passed; safe to call any number of times. */
    readonly expire: (id: TransactionId) => Effect.Effect<ExpireOutcome>
    /** Voids every hold already past its `expiresAt`; returns how many were voided. */
    readonly expireDue: (batchSize: number) => Effect.Effect<number>
  }
>()("@txn/domain/Transactions") {
  static readonly layer = Layer.effect(
    Transactions,
    Effect.gen(function* () {
      const accounts = yield* AccountRepository
      const transactions = yield* TransactionRepository
      const holds = yield* HoldScheduler
      const idempotency = yield* IdempotencyStore

      /** NotFound, as for another user's, for a transaction of an account the grant does not reach. */
      const ensureReachedTransaction = Effect.fn("Transactions.ensureReached")(function* (
        userId: UserId,
        id: TransactionId,
      ) {
        const grant = yield* Grant
        if (grant.accountIds === null) return
        const found = yield* transactions.findById(userId, id)
        if (Option.isNone(found) || !reaches(grant, found.value.accountId)) {
          return yield* NotFound.of("transaction", id)
        }
      })

      const transition = (to: "posted" | "voided") =>
        Effect.fn(`Transactions.${to === "posted" ? "post" : "void"}`)(function* (
          userId: UserId,
          input: TransitionTransaction,
        ) {
          yield* ensureReachedTransaction(userId, input.id)
          const outcome = yield* transactions.transition(
            userId,
            input.id,
            input.expectedVersion,
            to,
            new Date(),
          )
          if (outcome._tag === "Missing") return yield* NotFound.of("transaction", input.id)
          if (outcome._tag === "Refused") {
            return yield* refusal(outcome.current, input.expectedVersion, to)
          }
          return outcome.value
        })

      const expire = Effect.fn("Transactions.expire")(function* (id: TransactionId) {
        return yield* transactions.expire(id, new Date())
      })

      /** Why a create recorded nothing when its key was free: the account, as the user sees it. */
      const accountRefusal = Effect.fn("Transactions.accountRefusal")(function* (
        userId: UserId,
        input: CreateTransaction,
      ) {
        const account = yield* accounts.findById(userId, input.accountId)
        if (Option.isNone(account)) {
          return Option.some<NotFound | CurrencyMismatch>(NotFound.of("account", input.accountId))
        }
        if (account.value.currency !== input.currency) {
          return Option.some<NotFound | CurrencyMismatch>(currencyMismatch(input, account.value))
        }
        return Option.none<NotFound | CurrencyMismatch>()
      })

      /**
       * A create in one write: the transaction, its key holding the answer, the balance, all at
       * once. Only when nothing was recorded does it read more, to tell a replay, a reused key, a
       * missing account or one in another currency apart. A key that turned out free (it had
       * expired, say) or an account that is fine after all starts the write over.
       */
      const record = Effect.fn("Transactions.record")(function* (
        userId: UserId,
        input: CreateTransaction,
      ) {
        const now = new Date()
        if (isPast(input.expiresAt, now)) {
          return yield* ValidationError.fromIssues([
            { path: ["expiresAt"], message: "Expected a time in the future" },
          ])
        }
        const key = input.idempotencyKey
        const operation = "transactions.create"
        const hash = key === undefined ? undefined : yield* requestHash(operation, input)
        for (let attempt = 0; attempt < recordAttempts; attempt++) {
          const transaction = newTransaction(userId, input, new Date().toISOString())
          const recorded = yield* transactions.create(
            transaction,
            key === undefined || hash === undefined
              ? undefined
              : { key, operation, requestHash: hash, response: transaction },
          )
          if (Option.isSome(recorded)) return recorded.value as MaybeReplayed<Transaction>
          if (key !== undefined && hash !== undefined) {
            const answer = yield* idempotency.lookup(userId, key, operation, hash, new Date())
            if (answer._tag === "Mismatch") return yield* keyReused(key)
            if (answer._tag === "Replay") {
              return {
                ...(answer.response as Transaction),
                replayed: true as const,
              } as MaybeReplayed<Transaction>
            }
          }
          const refusal = yield* accountRefusal(userId, input)
          if (Option.isSome(refusal)) return yield* refusal.value
        }
        return yield* Effect.die(
          new Error(`A create on ${input.accountId} recorded nothing ${recordAttempts} times`),
        )
      })

      /** The checks and the write of a batch, without its idempotency or hold scheduling. */
      const recordMany = Effect.fn("Transactions.recordMany")(function* (
        userId: UserId,
        items: ReadonlyArray<CreateTransactionItem>,
      ) {
        const now = new Date()
        const expired = items.flatMap((item, index) =>
          isPast(item.expiresAt, now)
            ? [
                {
                  path: ["transactions", index, "expiresAt"],
                  message: "Expected a time in the future",
                },
              ]
            : [],
        )
        if (expired.length > 0) return yield* ValidationError.fromIssues(expired)
        const found = yield* accounts.findMany(userId, [...new Set(items.map((i) => i.accountId))])
        const byId = new Map(found.map((account) => [account.id as string, account]))
        const refused = items.flatMap((item, index): ReadonlyArray<RefusedItem> => {
          const account = byId.get(item.accountId)
          if (account === undefined) {
            return [{ index, field: "accountId", error: NotFound.of("account", item.accountId) }]
          }
          return account.currency === item.currency
            ? []
            : [{ index, field: "currency", error: currencyMismatch(item, account) }]
        })
        const refusal = batchRefusal(refused)
        if (refusal !== undefined) return yield* refusal
        const stamp = now.toISOString()
        const created = yield* transactions.insertMany(
          items.map((item) => newTransaction(userId, item, stamp)),
        )
        return { transactions: created } satisfies CreatedTransactions
      })

      return Transactions.of({
        create: Effect.fn("Transactions.create")(function* (userId, input) {
          yield* ensureReached(input.accountId)
          const created = yield* record(userId, input)
          // Scheduled once the write has committed, and not again for a replay.
          if (created.expiresAt !== null && created.replayed !== true) {
            yield* holds.schedule(created.id, new Date(created.expiresAt))
          }
          return created
        }),
        createMany: Effect.fn("Transactions.createMany")(function* (userId, input) {
          // Before the key is looked at: a replay would answer what the grant may not see.
          const grant = yield* Grant
          const unreached = batchRefusal(
            input.transactions.flatMap(
              (item, index): ReadonlyArray<RefusedItem<NotFound>> =>
                reaches(grant, item.accountId)
                  ? []
                  : [{ index, field: "accountId", error: NotFound.of("account", item.accountId) }],
            ),
          )
          if (unreached !== undefined) return yield* unreached
          const created = yield* idempotent(
            idempotency,
            userId,
            "transactions.createMany",
            input,
            recordMany(userId, input.transactions),
          )
          // Scheduled once the batch has committed, all in one enqueue, and not for a replay.
          if (created.replayed !== true) {
            yield* holds.scheduleMany(
              created.transactions.flatMap((t) =>
                t.expiresAt === null ? [] : [{ id: t.id, expiresAt: new Date(t.expiresAt) }],
              ),
            )
          }
          return created
        }),
        get: Effect.fn("Transactions.get")(function* (userId, input) {
          const found = yield* transactions.findById(userId, input.id)
          if (Option.isNone(found) || !reaches(yield* Grant, found.value.accountId)) {
            return yield* NotFound.of("transaction", input.id)
          }
          return found.value
        }),
        list: Effect.fn("Transactions.list")(function* (userId, input) {
          return yield* transactions.list(userId, input, (yield* Grant).accountIds)
        }),
        summary: Effect.fn("Transactions.summary")(function* (userId, input) {
          const totals = yield* transactions.summarize(userId, input, (yield* Grant).accountIds)
          const groups: Array<SummaryGroup> = []
          for (const group of totals) {
            const credits = exactFigure(group.credits)
            const debits = exactFigure(group.debits)
            const net = exactFigure(group.credits - group.debits)
            if (credits !== undefined && debits !== undefined && net !== undefined) {
              groups.push({ ...group, credits, debits, net })
            }
          }
          if (groups.length < totals.length) {
            return yield* ValidationError.fromIssues([
              {
                path: ["occurredFrom"],
                message: "Totals exceed 2^53-1 minor units; summarize a shorter range",
              },
            ])
          }
          return {
            groupBy: input.groupBy,
            occurredFrom: toUtc(input.occurredFrom),
            occurredTo: toUtc(input.occurredTo),
            groups,
          }
        }),
        update: Effect.fn("Transactions.update")(function* (userId, input) {
          const { id, expectedVersion, ...fields } = input
          yield* ensureReachedTransaction(userId, id)
          if (Object.keys(fields).length === 0) {
            return yield* ValidationError.fromIssues([
              { path: [], message: "Expected at least one field to change" },
            ])
          }
          const updated = yield* transactions.update(userId, input, new Date())
          if (Option.isSome(updated)) return updated.value
          const current = yield* transactions.findById(userId, id)
          if (Option.isNone(current)) return yield* NotFound.of("transaction", id)
          return yield* new VersionConflict({
            message: `Transaction ${id} is at version ${current.value.version}, not ${expectedVersion}`,
            id,
            expectedVersion,
            currentVersion: current.value.version,
          })
        }),
        post: transition("posted"),
        void: transition("voided"),
        reverse: Effect.fn("Transactions.reverse")(function* (userId, input) {
          const found = yield* transactions.findById(userId, input.id)
          if (Option.isNone(found) || !reaches(yield* Grant, found.value.accountId)) {
            return yield* NotFound.of("transaction", input.id)
          }
          const original = found.value
          const now = new Date()
          const stamp = now.toISOString()
          const outcome = yield* transactions.reverse(
            userId,
            input.expectedVersion,
            {
              id: newTransactionId(),
              accountId: original.accountId,
              userId,
              direction: original.direction === "credit" ? "debit" : "credit",
              amount: original.amount,
              currency: original.currency,
              status: "posted",
              description: input.description ?? `Reversal of ${original.id}`,
              category: original.category,
              counterparty: original.counterparty,
              reference: original.reference,
              occurredAt: stamp,
              expiresAt: null,
              metadata: {},
              version: 1,
              reversalOf: original.id,
              reversedBy: null,
              transferId: null,
              createdAt: stamp,
              updatedAt: stamp,
            },
            now,
          )
          if (outcome._tag === "Missing") return yield* NotFound.of("transaction", input.id)
          if (outcome._tag === "Refused") {
            return yield* refusal(outcome.current, input.expectedVersion, "reversed")
          }
          return outcome.value
        }),
        history: Effect.fn("Transactions.history")(function* (userId, input) {
          yield* ensureReachedTransaction(userId, input.id)
          const events = yield* transactions.history(userId, input.id)
          if (Option.isNone(events)) return yield* NotFound.of("transaction", input.id)
          return events.value
        }),
        changes: Effect.fn("Transactions.changes")(function* (userId, input) {
          return yield* transactions.changes(userId, input, (yield* Grant).accountIds)
        }),
        expire,
        expireDue: Effect.fn("Transactions.expireDue")(function* (batchSize) {
          const due = yield* transactions.findExpired(new Date(), batchSize)
          const outcomes = yield* Effect.forEach(due, expire, { concurrency: 4 })
          return outcomes.filter((outcome) => outcome === "voided").length
        }),
      })
    }),
  )
}
