import { Accounts, type DomainError, Forbidden, Unauthorized, Unavailable } from "@txn/domain"
import type { Log } from "@txn/platform"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as Layer from "effect/Layer"
import * as SchemaIssue from "effect/SchemaIssue"
import { type RequestScope, withinRequest } from "../withinRequest.ts"
import { Authorization, TxnApi, Validation } from "./api.ts"
import { errorBody, internalErrorBody } from "./errors.ts"

/** The request REST is answering, as the front door admitted it. */
export class RestCall extends Context.Service<RestCall, RequestScope & { readonly log: Log }>()(
  "@txn/api/rest/RestCall",
) {}

/**
 * The REST call's own services, typed as none: the front passes them with each request
 * (`makeRest`), where HttpApi's types expect services provided when the routes are built.
 */
const perRequest = <A, E>(effect: Effect.Effect<A, E, RestCall>) =>
  effect as Effect.Effect<A, E, never>

/**
 * A refusal as the REST error answer, failing the operation. Typed as any error the operation
 * declares: the answer's schema is found by its status (errors.ts), so each operation lists
 * every status it can answer.
 */
const refuse = (error: DomainError) =>
  perRequest(RestCall.use((call) => Effect.fail(errorBody(error, call.requestId) as never)))

const AuthorizationLive = Layer.succeed(
  Authorization,
  Authorization.of({
    bearer: (handler, { endpoint }) =>
      perRequest(
        RestCall.use(({ caller }) => {
          const scope = endpoint.method === "GET" ? "read" : "write"
          if (caller.kind === "user") {
            return caller.scopes.includes(scope)
              ? handler
              : refuse(
                  new Forbidden({
                    message: `This API key lacks the ${scope} scope`,
                    requiredScope: scope,
                  }),
                )
          }
          if (caller.kind === "admin") {
            return refuse(
              new Forbidden({
                message: "The admin token cannot act as a user; use an API key",
                requiredScope: scope,
              }),
            )
          }
          if (caller.reason === "unavailable") {
            return refuse(
              new Unavailable({ message: "The API key cannot be checked right now; try again" }),
            )
          }
          return refuse(
            new Unauthorized({
              message:
                caller.reason === "missing"
                  ? "Send an API key as `Authorization: Bearer <key>`"
                  : "Missing, unknown or revoked API key",
            }),
          )
        }),
      ),
  }),
)

/** A field's place in the request, as tRPC names it: `limit`, `metadata.note`, `id`. */
const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

const ValidationLive = HttpApiMiddleware.layerSchemaErrorTransform(Validation, (error) =>
  perRequest(
    RestCall.use((call) => {
      const issues = formatIssues(error.cause.issue).issues.map((issue) => ({
        path: (issue.path ?? []).map((segment) => {
          const key = typeof segment === "object" ? segment.key : segment
          return typeof key === "number" ? key : String(key)
        }),
        message: issue.message,
      }))
      const where = error.kind === "Payload" ? "" : `${error.kind.toLowerCase()} `
      const whole = error.kind === "Payload" ? "(body)" : "(input)"
      const fields = [...new Set(issues.map((issue) => issue.path.join(".") || whole))]
      return Effect.fail({
        error: {
          tag: "ValidationError",
          message: `Invalid ${where}input: ${fields.join(", ")}`,
          requestId: call.requestId,
          issues,
        },
      } as never)
    }),
  ),
)

/**
 * Runs a use case for the REST call: domain errors become REST error answers, defects a logged
 * 500 that names the request id.
 */
const useCase = <A, E extends DomainError, R>(effect: Effect.Effect<A, E, R>) =>
  RestCall.use((call) =>
    withinRequest(call)(effect).pipe(
      Effect.catchCause((cause) => {
        const failure = Cause.findErrorOption(cause)
        if (failure._tag === "Some") {
          return Effect.fail(errorBody(failure.value, call.requestId) as never)
        }
        call.log.error({ requestId: call.requestId, cause: Cause.pretty(cause) }, "request failed")
        return Effect.fail(internalErrorBody(call.requestId) as never)
      }),
    ),
  )

const userIdOf = RestCall.useSync(({ caller }) =>
  caller.kind === "user" ? caller.userId : (undefined as never),
)

/** A create's answer: 201, its Location, and whether it replays an earlier request. */
const created = <A extends { readonly id: string; readonly replayed?: true }>(
  collection: string,
  result: A,
) => {
  const { replayed, ...body } = result
  return HttpApiSchema.withHeaders({
    body: body as Omit<A, "replayed">,
    headers: {
      location: `/v1/${collection}/${result.id}`,
      ...(replayed === true ? { "idempotent-replayed": "true" as const } : {}),
    },
  })
}

const AccountsLive = HttpApiBuilder.group(TxnApi, "accounts", (handlers) =>
  handlers
    .handle("create", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(
          Accounts.use((accounts) =>
            accounts.create(userId, {
              ...payload,
              ...(headers["idempotency-key"] === undefined
                ? {}
                : { idempotencyKey: headers["idempotency-key"] }),
            }),
          ),
        ),
      ).pipe(Effect.map((account) => created("accounts", account))),
    )
    .handle("list", ({ query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.list(userId, query))),
      ),
    )
    .handle("get", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.get(userId, params))),
      ),
    )
    .handle("update", ({ params, payload }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.update(userId, { ...payload, id: params.id }))),
      ),
    )
    .handle("balance", ({ params, query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.balance(userId, { ...params, ...query }))),
      ),
    ),
)

/** Every group's handlers and the middleware, needing the app's services and the RestCall. */
export const handlersLayer = Layer.mergeAll(AccountsLive).pipe(
  // Each group looks its middleware up when it is built.
  Layer.provide([AuthorizationLive, ValidationLive]),
)
