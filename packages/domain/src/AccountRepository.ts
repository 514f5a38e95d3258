import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { Account, Balance, ListAccounts, UpdateAccount } from "./Account.ts"
import type { Page } from "./Common.ts"
import type { InsufficientFunds } from "./Errors.ts"
import type { AccountId, UserId } from "./Ids.ts"

/**
 * An account's balance figures exactly as stored or summed: sums of bounded columns are not
 * bounded, so they stay bigint until the use case knows each is an exact number.
 */
export interface ExactBalance extends Omit<Balance, "posted" | "pending" | "available"> {
  readonly posted: bigint
  readonly pending: bigint
  readonly available: bigint
}

/** Storage of accounts; every read is scoped to the owning user. */
export class AccountRepository extends Context.Service<
  AccountRepository,
  {
    readonly insert: (account: Account) => Effect.Effect<Account>
    readonly findById: (userId: UserId, id: AccountId) => Effect.Effect<Option.Option<Account>>
    /** Those of `ids` that are the user's accounts, in no particular order. */
    readonly findMany: (
      userId: UserId,
      ids: ReadonlyArray<AccountId>,
    ) => Effect.Effect<ReadonlyArray<Account>>
    /**
     * Changes the given fields; none if not the user's. Turning `allowNegative` off while the
     * available balance is below zero fails with InsufficientFunds.
     */
    readonly update: (
      userId: UserId,
      input: UpdateAccount,
      now: Date,
    ) => Effect.Effect<Option.Option<Account>, InsufficientFunds>
    /** The user's accounts, only those of `within` when given. */
    readonly list: (
      userId: UserId,
      query: ListAccounts,
      within?: ReadonlyArray<AccountId> | null,
    ) => Effect.Effect<Page<Account>>
    /** The stored balances, or sums of the ledger up to `asOf`; none if not the user's. */
    readonly balance: (
      userId: UserId,
      id: AccountId,
      asOf: Date | undefined,
    ) => Effect.Effect<Option.Option<ExactBalance>>
  }
>()("@txn/domain/AccountRepository") {}
