import * as Schema from "effect/Schema"

export interface Issue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

export type Validated<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly issues: ReadonlyArray<Issue> }

/** Validates exactly as the API does: every issue at once, unknown fields rejected. */
export const validate = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  input: unknown,
): Validated<S["Type"]> => {
  const result = Schema.toStandardSchemaV1(schema, {
    parseOptions: { onExcessProperty: "error", errors: "all" },
  })["~standard"].validate(input)
  if (result instanceof Promise) throw new Error("Expected synchronous validation")
  if (result.issues !== undefined) {
    return {
      ok: false,
      issues: result.issues.map((issue) => ({
        path: (issue.path ?? []).map((segment) =>
          typeof segment === "object" ? segment.key : segment,
        ),
        message: issue.message,
      })),
    }
  }
  return { ok: true, value: result.value }
}

export const issuesOf = (schema: Schema.ConstraintDecoder<unknown>, input: unknown) => {
  const result = validate(schema, input)
  if (result.ok) throw new Error(`Expected ${JSON.stringify(input)} to be rejected`)
  return result.issues
}

export const decoded = <S extends Schema.ConstraintDecoder<unknown>>(
  schema: S,
  input: unknown,
): S["Type"] => {
  const result = validate(schema, input)
  if (!result.ok) throw new Error(`Expected valid input, got ${JSON.stringify(result.issues)}`)
  return result.value
}

export const isValid = (schema: Schema.ConstraintDecoder<unknown>, input: unknown) =>
  validate(schema, input).ok
