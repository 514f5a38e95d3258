import { IdempotencyKey } from "@txn/domain"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as HttpApiSecurity from "effect/http-api/HttpApiSecurity"
import * as Schema from "effect/Schema"
import { errorsOf } from "./errors.ts"

/**
 * The caller's API key (or, for admin operations, the admin token) as `Authorization: Bearer`.
 * The front door has authenticated and counted the request before REST sees it; this checks the
 * key's scope for the operation: `read` for GET, `write` for the rest.
 */
export class Authorization extends HttpApiMiddleware.Service<Authorization>()(
  "@txn/api/rest/Authorization",
  {
    security: { bearer: HttpApiSecurity.http({ scheme: "bearer" }) },
    error: errorsOf(401, 403, 503),
  },
) {}

/**
 * What every operation may answer besides its own: 400 ValidationError for parameters, query or
 * body that do not decode (this middleware's work), and the front door's refusals: 413 for a body
 * too large, 429 past the rate limit, 503 when a dependency is down or the deadline passed, 500.
 */
export class Validation extends HttpApiMiddleware.Service<Validation>()(
  "@txn/api/rest/Validation",
  { error: errorsOf(400, 413, 429, 500, 503) },
) {}

export const idempotencyHeaders = {
  "idempotency-key": Schema.optionalKey(IdempotencyKey).annotate({
    description:
      "Retrying with the same key (and the same body) answers the first result again, with `Idempotent-Replayed: true`, instead of creating twice",
  }),
}

/** A created resource: 201, where it now lives, and whether this answer is a replay. */
export const created = <S extends Schema.Top>(schema: S) =>
  HttpApiSchema.WithHeaders(schema.pipe(HttpApiSchema.status(201)), {
    location: Schema.String.annotate({ description: "The URL of the created resource" }),
    "idempotent-replayed": Schema.optionalKey(Schema.Literal("true")).annotate({
      description: "Present when this answers an earlier request with the same Idempotency-Key",
    }),
  })

/**
 * A create's input without its `idempotencyKey`, which REST takes as the Idempotency-Key header;
 * the schema's own checks stay (none of them reads the key).
 */
export const withoutKey = <
  Fields extends Schema.Struct.Fields & { readonly idempotencyKey: Schema.Top },
>(
  schema: Schema.Struct<Fields>,
) =>
  schema.mapFields(
    ({ idempotencyKey: _key, ...fields }): Omit<Fields, "idempotencyKey"> => fields,
    { unsafePreserveChecks: true },
  )

/**
 * A request body schema with examples for the document (shown by /docs, checked against the
 * schema by the tests). The examples go on the struct itself, under its checks, where the
 * document generator reads them.
 */
export const withExamples = <Fields extends Schema.Struct.Fields>(
  schema: Schema.Struct<Fields>,
  ...examples: ReadonlyArray<object>
): Schema.Struct<Fields> => {
  const annotated = Schema.Struct(schema.fields).annotate({ examples } as never)
  const checks = schema.ast.checks
  return (
    checks === undefined ? annotated : annotated.check(...(checks as [never, ...Array<never>]))
  ) as Schema.Struct<Fields>
}

/** A schema whose document shows `example` (see examples.ts), for a schema without checks. */
export const exampled = <S extends Schema.Top>(schema: S, example: unknown): S =>
  schema.annotate({ examples: [example] } as never) as S
