import {
  getErrorShape,
  initTRPC,
  StandardSchemaV1Error,
  type TRPC_ERROR_CODE_KEY,
  TRPCError,
} from "@trpc/server"
import { type DomainError, type FieldIssue, Forbidden, type Scope, Unauthorized } from "@txn/domain"
import * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import {
  type AppServices,
  anonymousRefusal,
  type Caller,
  credentialName,
  type RequestContext,
} from "./context.ts"
import { type ErrorTag, errorTable, isDomainErrorTag, tagOfTrpcCode } from "./errorTable.ts"
import { rateLimitRefusal } from "./rateLimit.ts"
import { withinRequest } from "./withinRequest.ts"

type IssuePath = StandardSchemaV1Error["issues"][number]["path"]

const toFieldIssue = (issue: { message: string; path?: IssuePath }): FieldIssue => ({
  path: (issue.path ?? []).map((segment) => {
    const key = typeof segment === "object" ? segment.key : segment
    return typeof key === "number" ? key : String(key)
  }),
  message: issue.message,
})

const isDomainError = (value: unknown): value is DomainError =>
  value instanceof Error && isDomainErrorTag((value as { _tag?: unknown })._tag)

/** Which scope a procedure needs; `admin` ones need the admin token instead of an API key. */
export interface ProcedureMeta {
  readonly scope: Scope | "admin"
}

const t = initTRPC
  .context<RequestContext>()
  .meta<ProcedureMeta>()
  .create({
    // Never send stack traces, whatever NODE_ENV says.
    isDev: false,
    // Live streams (subscriptions over SSE) carry a comment every 10 s, so proxies keep them open
    // and clients can tell a quiet stream from a dead one: tRPC's client reconnects after 25 s
    // without a word, resuming after the last event it got.
    sse: {
      ping: { enabled: true, intervalMs: 10_000 },
      client: { reconnectAfterInactivityMs: 25_000 },
    },
    errorFormatter({ shape, error, ctx }) {
      const cause = error.cause
      let tag: ErrorTag
      let issues: ReadonlyArray<FieldIssue> | undefined
      let details: Record<string, unknown> | undefined
      let message = shape.message
      if (cause instanceof StandardSchemaV1Error) {
        tag = "ValidationError"
        issues = cause.issues.map(toFieldIssue)
        const fields = [...new Set(issues.map((issue) => issue.path.join(".") || "(input)"))]
        message = `Invalid input: ${fields.join(", ")}`
      } else if (isDomainError(cause)) {
        const { _tag, message: _message, ...rest } = cause
        tag = _tag
        if (cause._tag === "ValidationError") issues = cause.issues
        else details = rest
        message = cause.message
      } else {
        tag = tagOfTrpcCode(error.code)
        if (tag === "ValidationError") issues = [{ path: [], message: shape.message }]
      }
      if (tag === "InternalError") {
        message = `Internal error; quote request id ${ctx?.requestId ?? "unknown"} when reporting it`
      }
      return {
        message,
        code: shape.code,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          tag,
          requestId: ctx?.requestId,
          ...(issues === undefined ? {} : { issues }),
          ...(details === undefined ? {} : { details }),
        },
      }
    },
  })

export const router = t.router

const fail = (code: TRPC_ERROR_CODE_KEY, cause: DomainError) =>
  new TRPCError({ code, message: cause.message, cause })

/** A domain error as the tRPC error of its tag's code, to throw from a procedure. */
export const refusal = (error: DomainError) => fail(errorTable[error._tag].code, error)

/**
 * A whole /trpc request refused before any of its calls ran, in the shape tRPC answers errors
 * with; the client applies it to every call of a batch.
 */
export const requestRefusal = (error: DomainError, requestId: string) => {
  const shape = getErrorShape({
    config: t._config,
    error: fail(errorTable[error._tag].code, error),
    type: "unknown",
    path: undefined,
    input: undefined,
    ctx: undefined,
  })
  return { error: { ...shape, data: { ...shape.data, requestId } } }
}

/**
 * The request's calls were all counted against the caller's budget before tRPC saw it (see
 * admission.ts); the calls past what the budget admitted are refused here, in batch order.
 */
const rateLimited = t.middleware(({ ctx, batchIndex, next }) => {
  if (batchIndex >= ctx.budget.admitted) {
    throw fail("TOO_MANY_REQUESTS", rateLimitRefusal(ctx.budget))
  }
  return next()
})

const unauthorized = (caller: Extract<Caller, { readonly kind: "anonymous" }>) => {
  const refusal = anonymousRefusal(caller)
  return fail(errorTable[refusal._tag].code, refusal)
}

/** A procedure for API-key callers holding `scope`; its context knows the user. */
const userProcedure = (scope: Scope) =>
  t.procedure
    .meta({ scope })
    .use(rateLimited)
    .use(({ ctx, next }) => {
      const caller = ctx.caller
      if (caller.kind !== "user") {
        if (caller.kind === "admin") {
          throw fail(
            "FORBIDDEN",
            new Forbidden({
              message: "The admin token cannot act as a user; use an API key",
              requiredScope: scope,
            }),
          )
        }
        throw unauthorized(caller)
      }
      if (!caller.scopes.includes(scope)) {
        throw fail(
          "FORBIDDEN",
          new Forbidden({
            message: `This ${credentialName(caller)} lacks the ${scope} scope`,
            requiredScope: scope,
          }),
        )
      }
      return next({ ctx: { caller } })
    })

export const readProcedure = userProcedure("read")
export const writeProcedure = userProcedure("write")

/** A procedure of the admin API, for the admin token only. */
export const adminProcedure = t.procedure
  .meta({ scope: "admin" })
  .use(rateLimited)
  .use(({ ctx, next }) => {
    if (ctx.caller.kind === "admin") return next()
    if (ctx.adminToken === undefined) {
      throw fail(
        "UNAUTHORIZED",
        new Unauthorized({ message: "The admin API is off; set TXN_ADMIN_TOKEN to turn it on" }),
      )
    }
    if (ctx.caller.kind === "user") {
      throw fail(
        "FORBIDDEN",
        new Forbidden({ message: "Only the admin token may do this", requiredScope: "admin" }),
      )
    }
    throw unauthorized(ctx.caller)
  })

/** An Effect schema as a tRPC input: every bad field reported, unknown fields rejected. */
export const input = <S extends Schema.Decoder<unknown>>(schema: S) =>
  Schema.toStandardSchemaV1(schema, { parseOptions: { onExcessProperty: "error", errors: "all" } })

/**
 * Runs a use case on the app's runtime: domain errors become typed tRPC errors, a use case still
 * running at the request's deadline answers Unavailable, defects answer 500. A client that goes
 * away interrupts it (its database transaction rolls back).
 */
export const run = async <A, E extends DomainError>(
  ctx: RequestContext,
  effect: Effect.Effect<A, E, AppServices>,
): Promise<A> => {
  const exit = await ctx.runtime.runPromiseExit(withinRequest(ctx)(effect), {
    signal: ctx.signal,
  })
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.findErrorOption(exit.cause)
  if (Option.isSome(failure)) {
    throw fail(errorTable[failure.value._tag].code, failure.value)
  }
  if (ctx.signal.aborted && Cause.hasInterruptsOnly(exit.cause)) {
    throw new TRPCError({ code: "CLIENT_CLOSED_REQUEST", message: "The client went away" })
  }
  ctx.log.error({ requestId: ctx.requestId, cause: Cause.pretty(exit.cause) }, "request failed")
  throw new TRPCError({ code: "INTERNAL_SERVER_ERROR" })
}
