import { Schema } from "effect"

/** One bad field: where it is in the input and what is wrong with it. */
export const FieldIssue = Schema.Struct({
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  message: Schema.String,
})
export type FieldIssue = typeof FieldIssue.Type

export class ValidationError extends Schema.TaggedError<ValidationError>()("ValidationError", {
  message: Schema.String,
  issues: Schema.Array(FieldIssue),
}) {
  static fromIssues(issues: ReadonlyArray<FieldIssue>): ValidationError {
    const fields = issues.map((issue) => issue.path.join(".") || "(input)")
    return new ValidationError({
      message: `Invalid input: ${[...new Set(fields)].join(", ")}`,
      issues,
    })
  }
}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String,
}) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String,
  requiredScope: Schema.String,
}) {}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  message: Schema.String,
  resource: Schema.String,
  id: Schema.String,
}) {
  static of(resource: string, id: string): NotFound {
    return new NotFound({ message: `No ${resource} with id ${id}`, resource, id })
  }
}

export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  message: Schema.String,
  id: Schema.String,
  expectedVersion: Schema.Number,
  currentVersion: Schema.Number,
}) {}

export class InvalidStateTransition extends Schema.TaggedError<InvalidStateTransition>()(
  "InvalidStateTransition",
  { message: Schema.String, id: Schema.String, from: Schema.String, to: Schema.String },
) {}

export class IdempotencyKeyInProgress extends Schema.TaggedError<IdempotencyKeyInProgress>()(
  "IdempotencyKeyInProgress",
  { message: Schema.String, idempotencyKey: Schema.String },
) {}

export class IdempotencyKeyReused extends Schema.TaggedError<IdempotencyKeyReused>()(
  "IdempotencyKeyReused",
  { message: Schema.String, idempotencyKey: Schema.String },
) {}

export class InsufficientFunds extends Schema.TaggedError<InsufficientFunds>()(
  "InsufficientFunds",
  {
    message: Schema.String,
    accountId: Schema.String,
    available: Schema.Number,
    requested: Schema.Number,
  },
) {}

/**
 * A change that would take one of an account's balance figures past what the API can show
 * exactly: 2^53-1 minor units either way. `figure` names the figure, `balance` is its value now
 * (before the change), `limit` the bound it would pass (negative for the lower one).
 */
export class BalanceLimitExceeded extends Schema.TaggedError<BalanceLimitExceeded>()(
  "BalanceLimitExceeded",
  {
    message: Schema.String,
    accountId: Schema.String,
    figure: Schema.Literals([
      "posted+pendingCredits",
      "available",
      "pendingCredits",
      "pendingDebits",
    ]),
    balance: Schema.Number,
    requested: Schema.Number,
    limit: Schema.Number,
  },
) {}

export class CurrencyMismatch extends Schema.TaggedError<CurrencyMismatch>()("CurrencyMismatch", {
  message: Schema.String,
  accountId: Schema.String,
  accountCurrency: Schema.String,
  currency: Schema.String,
}) {}

/** A request bigger than the API takes: its body in bytes, or its batch in calls. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  message: Schema.String,
  limit: Schema.Number,
  unit: Schema.Literals(["bytes", "calls"]),
}) {}

/** A procedure called with an HTTP method it does not answer; `allowed` lists those it does. */
export class MethodNotAllowed extends Schema.TaggedError<MethodNotAllowed>()("MethodNotAllowed", {
  message: Schema.String,
  allowed: Schema.Array(Schema.String),
}) {}

export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number,
}) {}

export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  message: Schema.String,
}) {}

/** Every failure a caller can see, by tag. */
export type DomainError =
  | ValidationError
  | Unauthorized
  | Forbidden
  | NotFound
  | VersionConflict
  | InvalidStateTransition
  | IdempotencyKeyInProgress
  | IdempotencyKeyReused
  | InsufficientFunds
  | BalanceLimitExceeded
  | CurrencyMismatch
  | PayloadTooLarge
  | MethodNotAllowed
  | RateLimited
  | Unavailable

export type DomainErrorTag = DomainError["_tag"]
