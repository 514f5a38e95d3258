/**
 * The rules the transaction use cases apply without a repository: what a create records, when a
 * time has passed, and why a create or a guarded change is refused.
 */

import type { Account } from "./Account.ts"
import { timestampMillis } from "./Common.ts"
import { CurrencyMismatch, InvalidStateTransition, VersionConflict } from "./Errors.ts"
import { newTransactionId, type UserId } from "./Ids.ts"
import type { CreateTransactionItem, Transaction } from "./Transaction.ts"

/** A client's time in UTC at millisecond precision, as PostgreSQL reads it back. */
export const toUtc = (timestamp: string) => new Date(timestampMillis(timestamp)).toISOString()

export const isPast = (timestamp: string | undefined, now: Date) =>
  timestamp !== undefined && timestampMillis(timestamp) <= now.getTime()

export const currencyMismatch = (input: CreateTransactionItem, account: Account) =>
  new CurrencyMismatch({
    message: `Account ${input.accountId} holds ${account.currency}; the transaction is in ${input.currency}`,
    accountId: input.accountId,
    accountCurrency: account.currency,
    currency: input.currency,
  })

/** The transaction a create records, stamped `stamp`. */
export const newTransaction = (
  userId: UserId,
  input: CreateTransactionItem,
  stamp: string,
): Transaction => ({
  id: newTransactionId(),
  accountId: input.accountId,
  userId,
  direction: input.direction,
  amount: input.amount,
  currency: input.currency,
  status: input.status ?? "posted",
  description: input.description ?? null,
  category: input.category ?? null,
  counterparty: input.counterparty ?? null,
  reference: input.reference ?? null,
  // UTC at millisecond precision, as read back: list cursors compare these exactly.
  occurredAt: input.occurredAt === undefined ? stamp : toUtc(input.occurredAt),
  expiresAt: input.expiresAt === undefined ? null : toUtc(input.expiresAt),
  metadata: input.metadata ?? {},
  version: 1,
  reversalOf: null,
  reversedBy: null,
  transferId: null,
  createdAt: stamp,
  updatedAt: stamp,
})

/** Why a guarded change was refused: a stale version first, else the state forbids it. */
export const refusal = (current: Transaction, expectedVersion: number, to: string) =>
  current.version !== expectedVersion
    ? new VersionConflict({
        message: `Transaction ${current.id} is at version ${current.version}, not ${expectedVersion}`,
        id: current.id,
        expectedVersion,
        currentVersion: current.version,
      })
    : new InvalidStateTransition({
        message:
          current.reversalOf !== null && to === "reversed"
            ? `Transaction ${current.id} is itself a reversal and cannot be reversed`
            : `Transaction ${current.id} is ${current.status}; it cannot become ${to}`,
        id: current.id,
        from: current.status,
        to,
      })
