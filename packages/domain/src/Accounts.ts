import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type {
  Account,
  Balance,
  CreateAccount,
  GetAccount,
  GetBalance,
  ListAccounts,
  UpdateAccount,
} from "./Account.ts"
import { AccountRepository } from "./AccountRepository.ts"
import { balanceLimit, exactFigure } from "./Balances.ts"
import { type Page, timestampMillis } from "./Common.ts"
import {
  type Forbidden,
  type IdempotencyKeyReused,
  type InsufficientFunds,
  NotFound,
  ValidationError,
} from "./Errors.ts"
import { ensureAllAccounts, ensureReached, Grant } from "./Grant.ts"
import { IdempotencyStore, idempotent, type MaybeReplayed } from "./Idempotency.ts"
import { newAccountId, type UserId } from "./Ids.ts"

/**
 * Account use cases, on behalf of one user, within the caller's `Grant`: a client token limited to
 * some accounts sees and changes only those, and opens none.
 */
export class Accounts extends Context.Service<
  Accounts,
  {
    readonly create: (
      userId: UserId,
      input: CreateAccount,
    ) => Effect.Effect<MaybeReplayed<Account>, IdempotencyKeyReused | Forbidden>
    readonly get: (userId: UserId, input: GetAccount) => Effect.Effect<Account, NotFound>
    readonly list: (userId: UserId, input: ListAccounts) => Effect.Effect<Page<Account>>
    readonly balance: (
      userId: UserId,
      input: GetBalance,
    ) => Effect.Effect<Balance, NotFound | ValidationError>
    readonly update: (
      userId: UserId,
      input: UpdateAccount,
    ) => Effect.Effect<Account, NotFound | ValidationError | InsufficientFunds>
  }
>()("@txn/domain/Accounts") {
  static readonly layer = Layer.effect(
    Accounts,
    Effect.gen(function* () {
      const repository = yield* AccountRepository
      const idempotency = yield* IdempotencyStore
      return Accounts.of({
        create: Effect.fn("Accounts.create")(function* (userId, input) {
          yield* ensureAllAccounts("open accounts")
          const now = new Date().toISOString()
          return yield* idempotent(
            idempotency,
            userId,
            "accounts.create",
            input,
            repository.insert({
              id: newAccountId(),
              userId,
              name: input.name,
              currency: input.currency,
              allowNegative: input.allowNegative ?? false,
              metadata: input.metadata ?? {},
              createdAt: now,
              updatedAt: now,
            }),
          )
        }),
        get: Effect.fn("Accounts.get")(function* (userId, input) {
          yield* ensureReached(input.id)
          const found = yield* repository.findById(userId, input.id)
          if (Option.isNone(found)) return yield* NotFound.of("account", input.id)
          return found.value
        }),
        update: Effect.fn("Accounts.update")(function* (userId, input) {
          const { id, ...fields } = input
          yield* ensureReached(id)
          if (Object.keys(fields).length === 0) {
            return yield* ValidationError.fromIssues([
              { path: [], message: "Expected at least one field to change" },
            ])
          }
          const updated = yield* repository.update(userId, input, new Date())
          if (Option.isNone(updated)) return yield* NotFound.of("account", id)
          return updated.value
        }),
        balance: Effect.fn("Accounts.balance")(function* (userId, input) {
          yield* ensureReached(input.id)
          const asOf = input.asOf === undefined ? undefined : new Date(timestampMillis(input.asOf))
          const found = yield* repository.balance(userId, input.id, asOf)
          if (Option.isNone(found)) return yield* NotFound.of("account", input.id)
          const { posted, pending, available } = found.value
          const figures = {
            posted: exactFigure(posted),
            pending: exactFigure(pending),
            available: exactFigure(available),
          }
          if (
            figures.posted === undefined ||
            figures.pending === undefined ||
            figures.available === undefined
          ) {
            // Stored balances are bounded by the database; sums of the ledger up to a past time
            // need not be (entries are recorded by time, not in commit order).
            if (asOf === undefined) {
              return yield* Effect.die(new RangeError(`Account ${input.id} balance out of range`))
            }
            return yield* ValidationError.fromIssues([
              {
                path: ["asOf"],
                message: `The balance at this time is beyond ±${balanceLimit} minor units, more than can be shown exactly; ask for another time`,
              },
            ])
          }
          return {
            ...found.value,
            posted: figures.posted,
            pending: figures.pending,
            available: figures.available,
          }
        }),
        list: Effect.fn("Accounts.list")(function* (userId, input) {
          return yield* repository.list(userId, input, (yield* Grant).accountIds)
        }),
      })
    }),
  )
}
