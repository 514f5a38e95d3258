import { type DomainError, Forbidden, Unauthorized } from "@txn/domain"
import type { Log } from "@txn/platform"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as Layer from "effect/Layer"
import * as SchemaIssue from "effect/SchemaIssue"
import { anonymousRefusal, credentialName } from "../context.ts"
import type { RequestScope } from "../withinRequest.ts"
import { AdminAuthorization } from "./admin.ts"
import { Authorization, Validation } from "./common.ts"
import { errorBody } from "./errors.ts"

/** The request REST is answering, as the front door admitted it. */
export class RestCall extends Context.Service<
  RestCall,
  RequestScope & {
    readonly log: Log
    /** Whether the admin API is on (TXN_ADMIN_TOKEN set). */
    readonly adminApi: boolean
  }
>()("@txn/api/rest/RestCall") {}

/**
 * The REST call's own services, typed as none: the front passes them with each request
 * (`makeRest`), where HttpApi's types expect services provided when the routes are built.
 */
export const perRequest = <A, E>(effect: Effect.Effect<A, E, RestCall>) =>
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
                    message: `This ${credentialName(caller)} lacks the ${scope} scope`,
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
          return refuse(anonymousRefusal(caller))
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

const AdminAuthorizationLive = Layer.succeed(
  AdminAuthorization,
  AdminAuthorization.of({
    adminToken: (handler) =>
      perRequest(
        RestCall.use(({ caller, adminApi }) => {
          if (caller.kind === "admin") return handler
          if (!adminApi) {
            return refuse(
              new Unauthorized({
                message: "The admin API is off; set TXN_ADMIN_TOKEN to turn it on",
              }),
            )
          }
          if (caller.kind === "user") {
            return refuse(
              new Forbidden({
                message: "Only the admin token may do this",
                requiredScope: "admin",
              }),
            )
          }
          return refuse(anonymousRefusal(caller))
        }),
      ),
  }),
)

/** The middleware every group looks up when it is built: who may call, and bad input's answer. */
export const middlewareLayer = Layer.mergeAll(
  AuthorizationLive,
  AdminAuthorizationLive,
  ValidationLive,
)
