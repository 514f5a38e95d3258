import * as Schema from "effect/Schema"

/** One bad field: where it is in the input and what is wrong with it. */
export const FieldIssue = Schema.Struct({
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  message: Schema.String,
})
export type FieldIssue = typeof FieldIssue.Type

/** One refused item of a batch: its position, the input field at fault, and why. */
export const ItemFailure = Schema.Struct({
  index: Schema.Number,
  field: Schema.String,
  tag: Schema.String,
  message: Schema.String,
})
export type ItemFailure = typeof ItemFailure.Type

/**
 * Set only when the error refuses a batch (`transactions.createMany`): `index` and `field` name
 * the first refused item and its field, `failures` lists every refused item, first to last.
 */
const batchFields = {
  index: Schema.optionalKey(Schema.Number),
  field: Schema.optionalKey(Schema.String),
  failures: Schema.optionalKey(Schema.Array(ItemFailure)),
}

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
  ...batchFields,
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
    ...batchFields,
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
    ...batchFields,
  },
) {}

export class CurrencyMismatch extends Schema.TaggedError<CurrencyMismatch>()("CurrencyMismatch", {
  message: Schema.String,
  accountId: Schema.String,
  accountCurrency: Schema.String,
  currency: Schema.String,
  ...batchFields,
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

/** The refusals of one item of a batch that refuse the whole batch. */
export type ItemRefusal = NotFound | CurrencyMismatch | InsufficientFunds | BalanceLimitExceeded

/** An item's refusal, with the position and the input field it concerns. */
export interface RefusedItem<E extends ItemRefusal = ItemRefusal> {
  readonly index: number
  readonly field: string
  readonly error: E
}

/**
 * The one error refusing a batch: the first refused item's error, naming its index and field,
 * with every refused item in `failures`. Undefined when no item was refused.
 */
export const batchRefusal = <E extends ItemRefusal>(
  refused: ReadonlyArray<RefusedItem<E>>,
): E | undefined => {
  const ordered = refused.toSorted((a, b) => a.index - b.index)
  const first = ordered[0]
  if (first === undefined) return undefined
  const batch = {
    message: `transactions.${first.index}.${first.field}: ${first.error.message}${
      ordered.length > 1 ? ` (and ${ordered.length - 1} more refused items)` : ""
    }`,
    index: first.index,
    field: first.field,
    failures: ordered.map(({ index, field, error }) => ({
      index,
      field,
      tag: error._tag,
      message: error.message,
    })),
  }
  const error: ItemRefusal = first.error
  switch (error._tag) {
    case "NotFound": {
      const { _tag, ...fields } = error
      return new NotFound({ ...fields, ...batch }) as E
    }
    case "CurrencyMismatch": {
      const { _tag, ...fields } = error
      return new CurrencyMismatch({ ...fields, ...batch }) as E
    }
    case "InsufficientFunds": {
      const { _tag, ...fields } = error
      return new InsufficientFunds({ ...fields, ...batch }) as E
    }
    case "BalanceLimitExceeded": {
      const { _tag, ...fields } = error
      return new BalanceLimitExceeded({ ...fields, ...batch }) as E
    }
  }
}

/** Every failure a caller can see, by tag. */
export type DomainError =
  | ValidationError
  | Unauthorized
  | Forbidden
  | NotFound
  | VersionConflict
  | InvalidStateTransition
  | IdempotencyKeyReused
  | InsufficientFunds
  | BalanceLimitExceeded
  | CurrencyMismatch
  | PayloadTooLarge
  | MethodNotAllowed
  | RateLimited
  | Unavailable

export type DomainErrorTag = DomainError["_tag"]
