import type { TRPC_ERROR_CODE_KEY } from "@trpc/server"
import type { DomainErrorTag } from "@txn/domain"

/**
 * Each domain error's tRPC code and HTTP status, in one place. `satisfies` makes a new error tag a
 * compile error here until it is mapped.
 */
export const errorTable = {
  ValidationError: { code: "BAD_REQUEST", status: 400 },
  Unauthorized: { code: "UNAUTHORIZED", status: 401 },
  Forbidden: { code: "FORBIDDEN", status: 403 },
  NotFound: { code: "NOT_FOUND", status: 404 },
  VersionConflict: { code: "CONFLICT", status: 409 },
  InvalidStateTransition: { code: "CONFLICT", status: 409 },
  IdempotencyKeyReused: { code: "UNPROCESSABLE_CONTENT", status: 422 },
  InsufficientFunds: { code: "UNPROCESSABLE_CONTENT", status: 422 },
  BalanceLimitExceeded: { code: "UNPROCESSABLE_CONTENT", status: 422 },
  CurrencyMismatch: { code: "UNPROCESSABLE_CONTENT", status: 422 },
  PayloadTooLarge: { code: "PAYLOAD_TOO_LARGE", status: 413 },
  MethodNotAllowed: { code: "METHOD_NOT_SUPPORTED", status: 405 },
  RateLimited: { code: "TOO_MANY_REQUESTS", status: 429 },
  Unavailable: { code: "SERVICE_UNAVAILABLE", status: 503 },
} as const satisfies Record<DomainErrorTag, { code: TRPC_ERROR_CODE_KEY; status: number }>

export type ErrorTag = DomainErrorTag | "InternalError"

export const isDomainErrorTag = (tag: unknown): tag is DomainErrorTag =>
  typeof tag === "string" && Object.hasOwn(errorTable, tag)

/** Errors raised by tRPC itself (bad JSON, unknown procedure, body too big) get a tag too. */
export const tagOfTrpcCode = (code: TRPC_ERROR_CODE_KEY): ErrorTag => {
  switch (code) {
    case "PARSE_ERROR":
    case "BAD_REQUEST":
    case "UNSUPPORTED_MEDIA_TYPE":
      return "ValidationError"
    case "METHOD_NOT_SUPPORTED":
      return "MethodNotAllowed"
    case "NOT_FOUND":
      return "NotFound"
    case "PAYLOAD_TOO_LARGE":
      return "PayloadTooLarge"
    case "UNAUTHORIZED":
      return "Unauthorized"
    case "FORBIDDEN":
      return "Forbidden"
    case "TOO_MANY_REQUESTS":
      return "RateLimited"
    case "TIMEOUT":
    case "SERVICE_UNAVAILABLE":
    case "CLIENT_CLOSED_REQUEST":
      return "Unavailable"
    default:
      return "InternalError"
  }
}

/** The `Retry-After` of every 503 Unavailable, in seconds: a dependency is down or stalled. */
export const unavailableRetryAfterSeconds = 1
