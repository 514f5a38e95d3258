import { Context, type Effect, type Option } from "effect"
import type { Account, ListAccounts } from "./Account.ts"
import type { Page } from "./Common.ts"
import type { AccountId, UserId } from "./Ids.ts"

/** Storage of accounts; every read is scoped to the owning user. */
export class AccountRepository extends Context.Service<
  AccountRepository,
  {
    readonly insert: (account: Account) => Effect.Effect<Account>
    readonly findById: (userId: UserId, id: AccountId) => Effect.Effect<Option.Option<Account>>
    readonly list: (userId: UserId, query: ListAccounts) => Effect.Effect<Page<Account>>
  }
>()("@txn/domain/AccountRepository") {}
