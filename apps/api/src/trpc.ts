import { initTRPC, StandardSchemaV1Error, TRPCError } from "@trpc/server"
import type { DomainError, FieldIssue } from "@txn/domain"
import { Cause, Effect, Exit, Option, Schema } from "effect"
import type { AppServices, RequestContext } from "./context.ts"
import { type ErrorTag, errorTable, isDomainErrorTag, tagOfTrpcCode } from "./errorTable.ts"

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

const t = initTRPC.context<RequestContext>().create({
  // Never send stack traces, whatever NODE_ENV says.
  isDev: false,
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
export const procedure = t.procedure
export const createCallerFactory = t.createCallerFactory

/** An Effect schema as a tRPC input: every bad field reported, unknown fields rejected. */
export const input = <S extends Schema.Decoder<unknown>>(schema: S) =>
  Schema.toStandardSchemaV1(schema, { parseOptions: { onExcessProperty: "error", errors: "all" } })

/** Runs a use case on the app's runtime: domain errors become typed tRPC errors, defects 500s. */
export const run = async <A, E extends DomainError>(
  ctx: RequestContext,
  effect: Effect.Effect<A, E, AppServices>,
): Promise<A> => {
  const exit = await ctx.runtime.runPromiseExit(
    effect.pipe(Effect.annotateLogs({ requestId: ctx.requestId, userId: ctx.caller.userId })),
  )
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.findErrorOption(exit.cause)
  if (Option.isSome(failure)) {
    throw new TRPCError({
      code: errorTable[failure.value._tag].code,
      message: failure.value.message,
      cause: failure.value,
    })
  }
  ctx.log.error({ requestId: ctx.requestId, cause: Cause.pretty(exit.cause) }, "request failed")
  throw new TRPCError({ code: "INTERNAL_SERVER_ERROR" })
}
