import { type DomainError, FieldIssue } from "@txn/domain"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as Schema from "effect/Schema"
import type { Door } from "../admission.ts"
import { type ErrorTag, errorTable } from "../errorTable.ts"

/**
 * A REST error answer: `{ "error": { tag, message, requestId, issues?, details? } }`, the same
 * tag, status and fields as tRPC's `error.data` (issues for ValidationError, the error's own
 * fields as details for the others).
 */
export interface ErrorBody {
  readonly error: {
    readonly tag: ErrorTag
    readonly message: string
    readonly requestId: string
    readonly issues?: ReadonlyArray<FieldIssue>
    readonly details?: Record<string, unknown>
  }
}

const tagsByStatus = new Map<number, Array<ErrorTag>>()
for (const [tag, { status }] of Object.entries(errorTable)) {
  tagsByStatus.set(status, [...(tagsByStatus.get(status) ?? []), tag as ErrorTag])
}
tagsByStatus.set(500, ["InternalError"])

const errorSchema = (status: number, tags: ReadonlyArray<ErrorTag>) =>
  Schema.Struct({
    error: Schema.Struct({
      tag: Schema.Literals(tags as readonly [ErrorTag, ...Array<ErrorTag>]),
      message: Schema.String,
      requestId: Schema.String,
      issues: Schema.optionalKey(Schema.Array(FieldIssue)),
      details: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
    }),
  }).pipe(
    HttpApiSchema.status(status),
    Schema.annotate({
      identifier: `Error${status}`,
      description: `Tags answered with ${status}: ${tags.join(", ")}`,
    }),
  )

/** One error schema per status, each naming the tags answered with it. */
export const errorSchemas = new Map(
  [...tagsByStatus].map(([status, tags]) => [status, errorSchema(status, tags)] as const),
)

/** The error schemas of these statuses, for an endpoint's `error`. */
export const errorsOf = (...statuses: ReadonlyArray<number>) =>
  statuses.map((status) => {
    const schema = errorSchemas.get(status)
    if (schema === undefined) throw new Error(`No error answers ${status}`)
    return schema
  })

/** A domain error as a REST error answer. */
export const errorBody = (error: DomainError, requestId: string): ErrorBody => {
  const { _tag, message, ...rest } = error as DomainError & Record<string, unknown>
  const fields = Object.fromEntries(
    Object.entries(rest).filter(([key]) => key !== "name" && key !== "stack" && key !== "cause"),
  )
  return {
    error: {
      tag: _tag,
      message,
      requestId,
      ...(error._tag === "ValidationError"
        ? { issues: error.issues }
        : Object.keys(fields).length === 0
          ? {}
          : { details: fields }),
    },
  }
}

export const internalErrorBody = (requestId: string): ErrorBody => ({
  error: {
    tag: "InternalError",
    message: `Internal error; quote request id ${requestId} when reporting it`,
    requestId,
  },
})

/** The front door as REST requests pass it: one call each, refused in REST's error shape. */
export const restDoor: Door = { calls: () => 1, refusal: errorBody, queryField: "query" }
