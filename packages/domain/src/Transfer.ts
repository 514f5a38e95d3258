import * as Schema from "effect/Schema"
import { Text, Timestamp } from "./Common.ts"
import { Currency } from "./Currency.ts"
import { IdempotencyKey } from "./Idempotency.ts"
import { AccountId, TransactionId, TransferId, UserId } from "./Ids.ts"
import { Amount } from "./Money.ts"

/** Money moved between two accounts of one user and currency: a debit and a credit, linked. */
export const Transfer = Schema.Struct({
  id: TransferId,
  userId: UserId,
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Amount,
  currency: Currency,
  description: Schema.NullOr(Schema.String),
  debitTransactionId: TransactionId,
  creditTransactionId: TransactionId,
  createdAt: Timestamp,
})
export type Transfer = typeof Transfer.Type

export const CreateTransfer = Schema.Struct({
  /** Retrying with the same key never transfers twice. */
  idempotencyKey: Schema.optionalKey(IdempotencyKey),
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Amount,
  currency: Currency,
  description: Schema.optionalKey(Text(1000)),
}).pipe(
  Schema.check(
    Schema.makeFilter((input) =>
      input.fromAccountId !== input.toAccountId
        ? undefined
        : { path: ["toAccountId"], issue: "Expected an account other than fromAccountId" },
    ),
  ),
)
export type CreateTransfer = typeof CreateTransfer.Type

export const GetTransfer = Schema.Struct({ id: TransferId })
export type GetTransfer = typeof GetTransfer.Type
