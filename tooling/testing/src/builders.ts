import {
  type Account,
  type Currency,
  newAccountId,
  newTransactionId,
  type Transaction,
  type UserId,
} from "@txn/domain"

/** When the builders' records were made, unless told otherwise: accounts first, then transactions. */
const accountTime = "2026-01-01T00:00:00.000Z"
const transactionTime = "2026-01-15T12:00:00.000Z"

/** An account of `userId` as the repositories store it: a EUR account that may not go negative. */
export const accountOf = (userId: UserId, fields: Partial<Account> = {}): Account => ({
  id: newAccountId(),
  userId,
  name: "Everyday",
  currency: "EUR" as Currency,
  allowNegative: false,
  metadata: {},
  createdAt: accountTime,
  updatedAt: accountTime,
  ...fields,
})

/** A transaction of `account` as the repositories store it: a posted debit of 1,000 minor units. */
export const transactionOf = (
  account: Account,
  fields: Partial<Transaction> = {},
): Transaction => ({
  id: newTransactionId(),
  accountId: account.id,
  userId: account.userId,
  direction: "debit",
  amount: 1_000,
  currency: account.currency,
  status: "posted",
  description: null,
  category: null,
  counterparty: null,
  reference: null,
  occurredAt: transactionTime,
  expiresAt: null,
  metadata: {},
  version: 1,
  reversalOf: null,
  reversedBy: null,
  transferId: null,
  createdAt: transactionTime,
  updatedAt: transactionTime,
  ...fields,
})
