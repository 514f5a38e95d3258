import { TRPCClientError, type TRPCLink } from "@trpc/client"
import { observable, type Unsubscribable } from "@trpc/server/observable"
import type { AppRouter } from "./generated/AppRouter.ts"

/** When the client tries a call again; `false` in the client's options turns retries off. */
export interface RetryOptions {
  /** Tries after the first one. Default 3. */
  readonly retries?: number
  /** The first backoff's upper bound; each try doubles it, with full jitter. Default 300. */
  readonly baseDelayMs?: number
  /** The largest backoff between two tries. Default 5000. */
  readonly maxDelayMs?: number
  /**
   * The longest `Retry-After` the client waits for; an answer asking for longer is given to the
   * caller at once. Default 30000.
   */
  readonly maxRetryAfterMs?: number
}

const defaults = {
  retries: 3,
  baseDelayMs: 300,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 30_000,
} satisfies Required<RetryOptions>

/** The statuses that say "try again later": 429 RateLimited, 503 Unavailable. */
const retryableStatuses = new Set([429, 503])

const hasIdempotencyKey = (input: unknown) =>
  typeof input === "object" &&
  input !== null &&
  typeof (input as { idempotencyKey?: unknown }).idempotencyKey === "string"

/** The HTTP answer behind an error, when there was one (a network failure has none). */
const responseOf = (error: TRPCClientError<AppRouter>): Response | undefined => {
  const response = error.meta?.response
  return typeof response === "object" && response !== null && "status" in response
    ? (response as Response)
    : undefined
}

/** `Retry-After` in milliseconds: seconds, or an HTTP date; else the RateLimited error's details. */
const retryAfterMs = (error: TRPCClientError<AppRouter>): number | undefined => {
  const header = responseOf(error)?.headers.get("retry-after")?.trim()
  if (header !== undefined && header !== "") {
    if (/^\d+$/.test(header)) return Number(header) * 1000
    const at = Date.parse(header)
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now())
  }
  const seconds = (error.data?.details as { retryAfterSeconds?: unknown } | undefined)
    ?.retryAfterSeconds
  return typeof seconds === "number" ? seconds * 1000 : undefined
}

/**
 * How long to wait before trying `error`'s call again, or undefined to give up: only network
 * failures and 429/503 answers are retried, and a mutation only when it carries an idempotency
 * key, so that a retry can never record anything twice.
 */
export const retryDelayMs = (
  options: Required<RetryOptions>,
  op: {
    readonly type: string
    readonly input: unknown
    readonly signal?: AbortSignal | null | undefined
  },
  error: TRPCClientError<AppRouter>,
  attempt: number,
): number | undefined => {
  if (attempt > options.retries || op.signal?.aborted === true) return undefined
  if (op.type === "subscription") return undefined
  if (op.type === "mutation" && !hasIdempotencyKey(op.input)) return undefined
  const status = error.data?.httpStatus ?? responseOf(error)?.status
  // No status: the request never got an answer (connection refused or reset, DNS, offline).
  const networkFailure = status === undefined && error.data === undefined
  if (!networkFailure && !(status !== undefined && retryableStatuses.has(status))) return undefined
  const asked = networkFailure ? undefined : retryAfterMs(error)
  if (asked !== undefined) return asked <= options.maxRetryAfterMs ? asked : undefined
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1))
  return Math.random() * ceiling
}

/**
 * A link that tries a call again after a network failure or a 429/503 answer, honouring
 * `Retry-After`, with bounded tries and jittered backoff otherwise. It stops as soon as the
 * call's `signal` aborts, and never retries a mutation without an idempotency key.
 */
export const retryLink =
  (retry: RetryOptions = {}): TRPCLink<AppRouter> =>
  () =>
  ({ op, next }) =>
    observable((observer) => {
      const options = { ...defaults, ...retry }
      let current: Unsubscribable | undefined
      let timer: ReturnType<typeof setTimeout> | undefined
      const onAbort = () => {
        clearTimeout(timer)
        observer.error(new TRPCClientError("Aborted", { cause: op.signal?.reason }))
      }
      const attempt = (count: number) => {
        current = next(op).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (error) => {
            const delay = retryDelayMs(options, op, error, count)
            if (delay === undefined) {
              observer.error(error)
              return
            }
            op.signal?.addEventListener("abort", onAbort, { once: true })
            timer = setTimeout(() => {
              op.signal?.removeEventListener("abort", onAbort)
              attempt(count + 1)
            }, delay)
          },
        })
      }
      attempt(1)
      return () => {
        clearTimeout(timer)
        op.signal?.removeEventListener("abort", onAbort)
        current?.unsubscribe()
      }
    })
