import { BalanceLimitExceeded, InsufficientFunds } from "./Errors.ts"
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

/**
 * How far any balance figure may go either way: 2^53-1 minor units, so every figure the API shows
 * is an exact JavaScript number.
 */
export const balanceLimit = Number.MAX_SAFE_INTEGER

const limit = BigInt(balanceLimit)

/** An account's stored balance components, exactly. */
export interface StoredBalance {
  readonly posted: bigint
  readonly pendingCredits: bigint
  readonly pendingDebits: bigint
}

/** What debits draw on: the posted balance less the holds on it (pending debits). */
export const availableOf = (balance: Pick<StoredBalance, "posted" | "pendingDebits">): bigint =>
  balance.posted - balance.pendingDebits

/**
 * The figures an account's balance shows: posted; pending, what posted will be once every hold
 * and pending credit settles; and available.
 */
export const balanceFigures = (balance: StoredBalance) => ({
  posted: balance.posted,
  pending: balance.posted + balance.pendingCredits - balance.pendingDebits,
  available: availableOf(balance),
})

/** `value` as a number if it is one exactly (within ±balanceLimit); undefined if not. */
export const exactFigure = (value: bigint): number | undefined =>
  value > limit || value < -limit ? undefined : Number(value)

/** A figure bounded by the rules `balanceRefusal` keeps; a broken bound is a defect. */
const bounded = (value: bigint): number => {
  const figure = exactFigure(value)
  if (figure === undefined) throw new RangeError(`Balance figure ${value} beyond ±${limit}`)
  return figure
}

/**
 * Why an account holding `before` cannot take `deltas` (of a transaction of `amount`), or
 * undefined if it can. Exact, on bigint. Besides funds (a debit beyond `available` on an account
 * that may not go negative), every figure stays within ±balanceLimit: each component, posted plus
 * pending credits at most the limit, and available (posted minus pending debits) at least its
 * negative. The last two bound `pending` and `available` whatever happens to the holds, so posting,
 * voiding or expiring a hold can never pass a limit and is never refused for one. The database
 * checks the same bounds as the last guard.
 */
export const balanceRefusal = (
  account: { readonly id: string; readonly allowNegative: boolean },
  before: StoredBalance,
  deltas: BalanceDeltas,
  amount: number,
): InsufficientFunds | BalanceLimitExceeded | undefined => {
  const posted = before.posted + BigInt(deltas.posted)
  const credits = before.pendingCredits + BigInt(deltas.pendingCredits)
  const debits = before.pendingDebits + BigInt(deltas.pendingDebits)
  const availableBefore = availableOf(before)
  const availableAfter = availableOf({ posted, pendingDebits: debits })
  if (!account.allowNegative && availableAfter < 0n && availableAfter < availableBefore) {
    const available = bounded(availableBefore)
    return new InsufficientFunds({
      message: `Account ${account.id} has ${available} available; ${amount} requested`,
      accountId: account.id,
      available,
      requested: amount,
    })
  }
  const kind = deltas.posted > 0 || deltas.pendingCredits > 0 ? "credit" : "debit"
  const exceeded = (
    figure: BalanceLimitExceeded["figure"],
    now: bigint,
    bound: number,
    message: string,
  ) =>
    new BalanceLimitExceeded({
      message: `Account ${account.id} cannot take a ${kind} of ${amount}: ${message}`,
      accountId: account.id,
      figure,
      balance: bounded(now),
      requested: amount,
      limit: bound,
    })
  if (posted + credits > limit) {
    const now = before.posted + before.pendingCredits
    return exceeded(
      "posted+pendingCredits",
      now,
      balanceLimit,
      `its posted balance plus pending credits, ${now}, would pass ${limit} minor units, the most an account can hold`,
    )
  }
  if (availableAfter < -limit) {
    return exceeded(
      "available",
      availableBefore,
      -balanceLimit,
      `its available balance, ${availableBefore}, would fall below -${limit} minor units, the least an account can hold`,
    )
  }
  if (credits > limit) {
    return exceeded(
      "pendingCredits",
      before.pendingCredits,
      balanceLimit,
      `its pending credits, ${before.pendingCredits}, would pass ${limit} minor units`,
    )
  }
  if (debits > limit) {
    return exceeded(
      "pendingDebits",
      before.pendingDebits,
      balanceLimit,
      `its pending debits, ${before.pendingDebits}, would pass ${limit} minor units`,
    )
  }
  return undefined
}

/** An account as a batch's balance check needs it: its rule and its stored balance. */
export interface BalanceAccount {
  readonly id: string
  readonly allowNegative: boolean
  readonly balance: StoredBalance
}

/** One new transaction of a batch, as its balance check needs it. */
export interface BatchPosting {
  readonly accountId: string
  readonly direction: Direction
  readonly amount: number
  readonly status: TransactionStatus
}

const plus = (balance: StoredBalance, deltas: BalanceDeltas): StoredBalance => ({
  posted: balance.posted + BigInt(deltas.posted),
  pendingCredits: balance.pendingCredits + BigInt(deltas.pendingCredits),
  pendingDebits: balance.pendingDebits + BigInt(deltas.pendingDebits),
})

/**
 * The batch's refusals, checked by `balanceRefusal` as if its items were created one after
 * another in order: each sees the balance the items before it leave, so debits that each fit
 * alone but not together are refused. A refused item leaves the balance as it was, so the items
 * after it are still checked (and listed) as they would be alone. Accounts not in `accounts`
 * are not checked here (the write fails on them anyway). Exact, on bigint.
 */
export const batchBalanceRefusals = (
  accounts: ReadonlyMap<string, BalanceAccount>,
  postings: ReadonlyArray<BatchPosting>,
): ReadonlyArray<{
  readonly index: number
  readonly error: InsufficientFunds | BalanceLimitExceeded
}> => {
  const balances = new Map<string, StoredBalance>()
  const refused: Array<{ index: number; error: InsufficientFunds | BalanceLimitExceeded }> = []
  postings.forEach((posting, index) => {
    const account = accounts.get(posting.accountId)
    if (account === undefined) return
    const before = balances.get(account.id) ?? account.balance
    const deltas = balanceDeltas(posting, null, posting.status)
    const error = balanceRefusal(account, before, deltas, posting.amount)
    if (error === undefined) balances.set(account.id, plus(before, deltas))
    else refused.push({ index, error })
  })
  return refused
}
