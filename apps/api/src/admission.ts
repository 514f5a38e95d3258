import type { IncomingMessage, ServerResponse } from "node:http"
import { type DomainError, PayloadTooLarge, Unavailable, ValidationError } from "@txn/domain"
import getRawBody, { type RawBodyError } from "raw-body"
import { clientAddressOf } from "./clientAddress.ts"
import { type AppContext, authenticate, type Caller } from "./context.ts"
import { type Deadline, deadlineIn, promiseBeforeDeadline } from "./deadline.ts"
import { errorTable, unavailableRetryAfterSeconds } from "./errorTable.ts"
import {
  type RateLimitDecision,
  rateLimitKeyOf,
  rateLimitRefusal,
  setRateLimitHeaders,
} from "./rateLimit.ts"

export interface AdmissionOptions {
  readonly maxBodyBytes: number
  readonly maxBatchCalls: number
  /** Proxies whose `X-Forwarded-For` names the client counted by the rate limit. */
  readonly trustedProxies?: ReadonlyArray<string> | undefined
}

/** What differs between the doors the front admits requests to: tRPC's and REST's. */
export interface Door {
  /** The calls a request carries, counted up to one more than `atMost`. */
  readonly calls: (rawUrl: string, atMost: number) => number
  /** A refusal's answer body, in the door's own error shape. */
  readonly refusal: (error: DomainError, requestId: string) => unknown
  /** What the door's errors call the query string: tRPC's `input`, REST's `query`. */
  readonly queryField: string
}

/** What the front door learned about a /trpc request it lets through to tRPC. */
export interface Admission {
  readonly caller: Caller
  readonly budget: RateLimitDecision
  /** When the answer is due; the procedures run against the same moment. */
  readonly deadline: Deadline
  /** The body, read whole and checked to be UTF-8; none for GET and HEAD. */
  readonly body: string | undefined
}

/**
 * Two `Authorization` headers are refused rather than guessed between: Node keeps only the first
 * in `request.headers`, and a proxy in front may have read the other one.
 */
export const ambiguousAuthorization = (request: IncomingMessage): ValidationError | undefined => {
  const count = request.headersDistinct.authorization?.length ?? 0
  return count > 1
    ? ValidationError.fromIssues([
        {
          path: ["authorization"],
          message: `Send one Authorization header; this request has ${count}`,
        },
      ])
    : undefined
}

/**
 * The calls a /trpc request carries (`/trpc/a,b?batch=1`), counted on the raw URL up to one more
 * than `atMost`: decoding and splitting a 7,000-call path would cost more than refusing it. tRPC
 * splits the decoded path, so an encoded comma counts too; what URL normalisation removes
 * (`/../`) can only make this count higher than tRPC's, never lower.
 */
export const trpcCallsOf = (rawUrl: string, atMost: number) => {
  const query = rawUrl.indexOf("?")
  if (query === -1 || new URLSearchParams(rawUrl.slice(query)).get("batch") !== "1") return 1
  const path = rawUrl.slice(0, query)
  const separator = /,|%2c/gi
  let calls = 1
  while (calls <= atMost && separator.exec(path) !== null) calls++
  return calls
}

/** The rate limit (Redis, say) did not answer before the request's deadline. */
class TimedOut extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * Whether a query string's percent-encoded bytes are not UTF-8, which URLSearchParams (and so
 * tRPC's `?input=`) would turn into U+FFFD. Each run of `%XX` is checked on its own: a character
 * cannot be split by an unencoded one, and a bare `%` stays what it is today, a literal.
 */
const hasInvalidPercentUtf8 = (query: string) => {
  for (const [run] of query.matchAll(/(?:%[0-9a-f]{2})+/gi)) {
    try {
      utf8.decode(Buffer.from(run.replaceAll("%", ""), "hex"))
    } catch {
      return true
    }
  }
  return false
}

/** The body as text, or why it is refused; invalid UTF-8 is refused, never replaced by U+FFFD. */
const readBody = async (
  request: IncomingMessage,
  maxBodyBytes: number,
): Promise<string | DomainError | "gone"> => {
  let bytes: Buffer
  try {
    bytes = await getRawBody(request, {
      limit: maxBodyBytes,
      length: request.headers["content-length"] ?? null,
    })
  } catch (error) {
    const type = (error as RawBodyError).type
    if (type === "entity.too.large") {
      return new PayloadTooLarge({
        message: `The request body exceeds ${maxBodyBytes} bytes`,
        limit: maxBodyBytes,
        unit: "bytes",
      })
    }
    // Anything else means the client went away before the body ended.
    return "gone"
  }
  try {
    return utf8.decode(bytes)
  } catch {
    return ValidationError.fromIssues([
      { path: [], message: "The request body is not valid UTF-8" },
    ])
  }
}

/** A refusal in the door's error shape, with its tag's status (and Retry-After when Unavailable). */
export const sendRefusal = (
  response: ServerResponse,
  door: Door,
  error: DomainError,
  requestId: string,
) => {
  if (error._tag === "Unavailable") {
    response.setHeader("retry-after", unavailableRetryAfterSeconds)
  }
  response.writeHead(errorTable[error._tag].status, { "content-type": "application/json" })
  response.end(JSON.stringify(door.refusal(error, requestId)))
}

/**
 * The one front door of /trpc and /v1, run before tRPC or REST resolves, validates or runs
 * anything: refuses two Authorization headers and batches over the cap, authenticates, counts
 * every call of the request (known procedure or not) against the key's budget or the client
 * address's, refuses the request outright when none of them fits, then refuses a query string or
 * body that is not UTF-8. Answers the request itself, in `door`'s error shape, and returns
 * undefined when it refuses; otherwise the door takes over, with the checked body.
 */
export const admit = async (
  app: AppContext,
  options: AdmissionOptions,
  door: Door,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
): Promise<Admission | undefined> => {
  // The request's one deadline, from its arrival at the door: authentication, the rate limit and
  // the use case all wait against it.
  const deadline = deadlineIn(app.requestTimeoutMs)
  const refuse = (error: DomainError) => {
    sendRefusal(response, door, error, requestId)
    return undefined
  }
  const ambiguous = ambiguousAuthorization(request)
  if (ambiguous !== undefined) return refuse(ambiguous)

  const rawUrl = request.url ?? "/"
  const calls = door.calls(rawUrl, options.maxBatchCalls)
  if (calls > options.maxBatchCalls) {
    return refuse(
      new PayloadTooLarge({
        message: `A batch may hold at most ${options.maxBatchCalls} calls; this one has more`,
        limit: options.maxBatchCalls,
        unit: "calls",
      }),
    )
  }

  const caller = await authenticate(app, request, requestId, deadline)
  const budget = await promiseBeforeDeadline(
    deadline,
    app.rateLimit.consume(
      rateLimitKeyOf(caller, clientAddressOf(request, options.trustedProxies ?? [])),
      calls,
    ),
    () => new TimedOut(),
  ).catch((error: unknown) => {
    if (error instanceof TimedOut) return undefined
    throw error
  })
  if (budget === undefined) {
    return refuse(new Unavailable({ message: "The request took too long; try again" }))
  }
  setRateLimitHeaders(response, budget)
  if (budget.admitted === 0) return refuse(rateLimitRefusal(budget))

  const query = rawUrl.indexOf("?")
  if (request.method === "GET" && query !== -1 && hasInvalidPercentUtf8(rawUrl.slice(query))) {
    return refuse(
      ValidationError.fromIssues([
        {
          path: [door.queryField],
          message: "The query string's percent-encoded bytes are not valid UTF-8",
        },
      ]),
    )
  }

  if (request.method === "GET" || request.method === "HEAD") {
    return { caller, budget, deadline, body: undefined }
  }
  const body = await readBody(request, options.maxBodyBytes)
  if (body === "gone") {
    response.destroy()
    return undefined
  }
  if (typeof body !== "string") return refuse(body)
  return { caller, budget, deadline, body }
}
