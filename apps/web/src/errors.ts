import { errorTag, formatMinorUnits, isTxnError } from "@txn/client"

/**
 * What went wrong, in words a person can act on: each error tag of the API says what to do next,
 * with the figures it carries (in `currency`'s major units when given). Anything else (the
 * network, a bug) says to try again.
 */
export const describeError = (error: unknown, currency?: string): string => {
  const money = (amount: number) =>
    currency === undefined
      ? `${amount} minor units`
      : `${formatMinorUnits(amount, currency)} ${currency}`
  if (isTxnError(error, "InsufficientFunds")) {
    const details = error.data.details
    return details === undefined
      ? "Not enough available funds. Lower the amount, or fund the account first."
      : `Not enough available funds: ${money(details.available)} available, ${money(details.requested)} asked for. Lower the amount, or fund the account first.`
  }
  if (isTxnError(error, "VersionConflict")) {
    const details = error.data.details
    return `Someone changed this record since you opened it${details === undefined ? "" : ` (it is now at version ${details.currentVersion}, you had ${details.expectedVersion})`}. Reload it and try again.`
  }
  if (isTxnError(error, "InvalidStateTransition")) {
    const details = error.data.details
    return details === undefined
      ? `Not possible in its current state: ${error.message}`
      : `A ${details.from} transaction cannot become ${details.to}.`
  }
  if (isTxnError(error, "ValidationError")) {
    const fields = (error.data.issues ?? []).map(
      (issue) => `${issue.path.join(".") || "input"}: ${issue.message}`,
    )
    return fields.length === 0 ? error.message : `Check ${fields.join("; ")}.`
  }
  if (isTxnError(error, "BalanceLimitExceeded")) {
    return "This would take the balance past the largest amount an account can hold."
  }
  if (isTxnError(error, "CurrencyMismatch")) {
    const details = error.data.details
    return details === undefined
      ? "The currencies do not match."
      : `The account holds ${details.accountCurrency}, not ${details.currency}. Use an account of the same currency.`
  }
  switch (errorTag(error)) {
    case "NotFound":
      return "That record does not exist, or belongs to someone else."
    case "Unauthorized":
      return "Your key or token was not accepted (wrong, revoked or expired). Sign in again."
    case "Forbidden":
      return "Your key or token may not do this: it lacks the scope. Sign in with a key that has it."
    case "RateLimited":
      return "Too many requests for now. Wait a moment and try again."
    case "IdempotencyKeyReused":
      return "This request was already sent with other details. Start it again."
    case "Unavailable":
      return "The service is busy, or something it needs is down. Try again shortly."
    case undefined:
      return error instanceof Error
        ? `Something went wrong: ${error.message}. Try again.`
        : "Something went wrong. Try again."
    default:
      return error instanceof Error ? error.message : "Something went wrong. Try again."
  }
}
