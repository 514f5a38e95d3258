import { createHash, timingSafeEqual } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import {
  Access,
  type Accounts,
  type ChangeFeed,
  type Credential,
  type Exports,
  type Transactions,
  type Transfers,
  Unauthorized,
  Unavailable,
  type Webhooks,
} from "@txn/domain"
import type { Log } from "@txn/platform"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { beforeDeadline, type Deadline } from "./deadline.ts"
import type { LiveFeed } from "./liveFeed.ts"
import type { RateLimit, RateLimitDecision } from "./rateLimit.ts"

export type AppServices =
  | Accounts
  | Transactions
  | Transfers
  | Exports
  | Webhooks
  | Access
  | ChangeFeed

/** Built once at start-up and shared by every request. */
export interface AppContext {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, never>
  readonly log: Log
  /** The admin API answers only this bearer token; unset, it is off. */
  readonly adminToken: Redacted.Redacted<string> | undefined
  readonly rateLimit: RateLimit
  /** How long a request may take, authentication included, before it answers Unavailable. */
  readonly requestTimeoutMs: number
  /** Live transaction changes for this process's subscribers (tRPC subscriptions, REST SSE). */
  readonly live: LiveFeed
}

/**
 * Who is calling: a user through one of their API keys or a client token minted with one (`via`;
 * a token's `expiresAt` is when it stops working, `accountIds` the only accounts it reaches), the
 * admin, or nobody we know.
 */
export type Caller =
  | ({ readonly kind: "user" } & Credential)
  | { readonly kind: "admin" }
  | { readonly kind: "anonymous"; readonly reason: "missing" | "invalid" | "unavailable" }

/** What one request adds: who is calling, from where, and the id that ties its logs together. */
export interface RequestContext extends AppContext {
  readonly requestId: string
  /** When this request must have its answer, whatever it is waiting for. */
  readonly deadline: Deadline
  readonly caller: Caller
  readonly clientAddress: string
  readonly response: ServerResponse
  /** Aborts when the client goes away before its answer: its use case is interrupted. */
  readonly signal: AbortSignal
  /** The rate limit's answer for all of this request's calls, counted before any of them ran. */
  readonly budget: RateLimitDecision
}

const digest = (value: string) => createHash("sha256").update(value).digest()

/** What a user's credential is called in a refusal: "API key" or "client token". */
export const credentialName = (caller: Extract<Caller, { readonly kind: "user" }>) =>
  caller.via === "token" ? "client token" : "API key"

/** Compares digests, so the time taken says nothing about how much of the token matched. */
const isAdminToken = (app: AppContext, token: string) =>
  app.adminToken !== undefined &&
  timingSafeEqual(digest(token), digest(Redacted.value(app.adminToken)))

/**
 * The one place a request becomes a caller: `Authorization: Bearer <API key or admin token>`.
 * Checking a key waits for the database no longer than the request's deadline.
 */
export const authenticate = async (
  app: AppContext,
  request: IncomingMessage,
  requestId: string,
  deadline: Deadline,
): Promise<Caller> => {
  const header = request.headers.authorization
  if (header === undefined || header === "") return { kind: "anonymous", reason: "missing" }
  const match = /^Bearer +(\S+) *$/i.exec(header)
  if (match === null) return { kind: "anonymous", reason: "invalid" }
  const token = match[1] as string
  if (isAdminToken(app, token)) return { kind: "admin" }
  const exit = await app.runtime.runPromiseExit(
    Access.use((access) => access.authenticate(token)).pipe(
      beforeDeadline(deadline, () => Effect.die(new Error("Timed out checking the API key"))),
    ),
  )
  if (Exit.isSuccess(exit)) return { kind: "user", ...exit.value }
  if (Exit.hasFails(exit)) return { kind: "anonymous", reason: "invalid" }
  // The key could not be checked (database down or stalled): the caller hears Unavailable, the
  // log why.
  app.log.error({ requestId, cause: Cause.pretty(exit.cause) }, "authentication failed")
  return { kind: "anonymous", reason: "unavailable" }
}

/**
 * Why a caller without a key of its own is refused, through any door: no key sent, one that is
 * unknown or revoked (401), or one that cannot be checked right now (503).
 */
export const anonymousRefusal = (
  caller: Extract<Caller, { readonly kind: "anonymous" }>,
): Unauthorized | Unavailable =>
  caller.reason === "unavailable"
    ? new Unavailable({ message: "The API key cannot be checked right now; try again" })
    : new Unauthorized({
        message:
          caller.reason === "missing"
            ? "Send an API key as `Authorization: Bearer <key>`"
            : "Missing, unknown or revoked API key",
      })
