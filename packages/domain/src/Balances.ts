import type { Direction, TransactionStatus } from "./Transaction.ts"

/** How one change to a transaction moves its account's three balance components. */
export interface BalanceDeltas {
  readonly posted: number
  readonly pendingCredits: number
  readonly pendingDebits: number
}

const none: BalanceDeltas = { posted: 0, pendingCredits: 0, pendingDebits: 0 }

const held = (direction: Direction, amount: number): BalanceDeltas =>
  direction === "credit"
    ? { posted: 0, pendingCredits: amount, pendingDebits: 0 }
    : { posted: 0, pendingCredits: 0, pendingDebits: amount }

const settled = (direction: Direction, amount: number): BalanceDeltas => ({
  posted: direction === "credit" ? amount : -amount,
  pendingCredits: 0,
  pendingDebits: 0,
})

const counts = (status: TransactionStatus | null, direction: Direction, amount: number) =>
  status === "pending"
    ? held(direction, amount)
    : status === "posted" || status === "reversed"
      ? settled(direction, amount)
      : none

/**
 * The balance change of a transaction moving from `from` (null: it did not exist) to `to`. A
 * reversed transaction still counts as posted: its reversal, a posted transaction the other way,
 * is what cancels it.
 */
export const balanceDeltas = (
  transaction: { readonly direction: Direction; readonly amount: number },
  from: TransactionStatus | null,
  to: TransactionStatus,
): BalanceDeltas => {
  const before = counts(from, transaction.direction, transaction.amount)
  const after = counts(to, transaction.direction, transaction.amount)
  return {
    posted: after.posted - before.posted,
    pendingCredits: after.pendingCredits - before.pendingCredits,
    pendingDebits: after.pendingDebits - before.pendingDebits,
  }
}

/** What may still be spent: posted money minus what pending debits hold. */
export const availableOf = (balance: { readonly posted: number; readonly pendingDebits: number }) =>
  balance.posted - balance.pendingDebits
