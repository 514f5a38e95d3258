import * as Schema from "effect/Schema"
import { Cursor, Limit, Metadata, Name, Timestamp } from "./Common.ts"
import { Currency } from "./Currency.ts"
import { IdempotencyKey } from "./Idempotency.ts"
import { AccountId, UserId } from "./Ids.ts"

export const Account = Schema.Struct({
  id: AccountId,
  userId: UserId,
  name: Schema.String,
  currency: Currency,
  allowNegative: Schema.Boolean,
  metadata: Metadata,
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Account = typeof Account.Type

export const CreateAccount = Schema.Struct({
  /** Retrying with the same key never creates twice. */
  idempotencyKey: Schema.optionalKey(IdempotencyKey),
  name: Name,
  currency: Currency,
  allowNegative: Schema.optionalKey(Schema.Boolean),
  metadata: Schema.optionalKey(Metadata),
})
export type CreateAccount = typeof CreateAccount.Type

/** Any of the account's own fields; its currency never changes. */
export const UpdateAccount = Schema.Struct({
  id: AccountId,
  name: Schema.optionalKey(Name),
  allowNegative: Schema.optionalKey(Schema.Boolean),
  metadata: Schema.optionalKey(Metadata),
})
export type UpdateAccount = typeof UpdateAccount.Type

export const GetAccount = Schema.Struct({ id: AccountId })
export type GetAccount = typeof GetAccount.Type

export const ListAccounts = Schema.Struct({
  currency: Schema.optionalKey(Currency),
  limit: Schema.optionalKey(Limit),
  cursor: Schema.optionalKey(Cursor),
})
export type ListAccounts = typeof ListAccounts.Type

/** Balances now, or as of a past time (`asOf`, by when postings were recorded). */
export const GetBalance = Schema.Struct({ id: AccountId, asOf: Schema.optionalKey(Timestamp) })
export type GetBalance = typeof GetBalance.Type

/**
 * In minor units. `posted`: settled money. `pending`: posted plus pending credits minus pending
 * debits. `available`: posted minus pending debits, what may still be spent.
 */
export interface Balance {
  readonly accountId: AccountId
  readonly currency: Currency
  readonly posted: number
  readonly pending: number
  readonly available: number
  /** The time these figures are for; null means now. */
  readonly asOf: string | null
}
