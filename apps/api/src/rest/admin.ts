import { ApiKey, ApiKeyId, CreateApiKey, CreateUser, User, UserId } from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as HttpApiSecurity from "effect/http-api/HttpApiSecurity"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Schema from "effect/Schema"
import { exampled, Validation, withExamples } from "./common.ts"
import { errorsOf } from "./errors.ts"
import * as examples from "./examples.ts"

/** The admin token (TXN_ADMIN_TOKEN) as `Authorization: Bearer`; API keys are refused. */
export class AdminAuthorization extends HttpApiMiddleware.Service<AdminAuthorization>()(
  "@txn/api/rest/AdminAuthorization",
  {
    security: { adminToken: HttpApiSecurity.http({ scheme: "bearer" }) },
    error: errorsOf(401, 403, 503),
  },
) {}

const { userId: _user, ...keyFields } = CreateApiKey.fields

export class AdminGroup extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.post("createUser", "/admin/users", {
      payload: withExamples(CreateUser, { name: "Alice" }),
      success: exampled(User, examples.user).pipe(HttpApiSchema.status(201)),
    }).annotateMerge(OpenApi.annotations({ summary: "Create a user" })),
    HttpApiEndpoint.post("createApiKey", "/admin/users/:userId/api-keys", {
      params: { userId: UserId },
      payload: withExamples(Schema.Struct(keyFields), {
        name: "laptop",
        scopes: ["read", "write"],
      }),
      success: exampled(
        Schema.Struct({
          apiKey: ApiKey,
          secret: Schema.String.annotate({ description: "The key itself; shown this once" }),
        }),
        { apiKey: examples.apiKey, secret: "txn_Qm4rT8vX2zB6nF0jL3pS7wY1cH5kD9gA2eU6iO0aZ4s" },
      ).pipe(HttpApiSchema.status(201)),
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Give a user an API key" })),
    HttpApiEndpoint.get("listApiKeys", "/admin/users/:userId/api-keys", {
      params: { userId: UserId },
      success: exampled(Schema.Array(ApiKey), [examples.apiKey]),
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "A user's API keys, never their secrets" })),
    HttpApiEndpoint.post("revokeApiKey", "/admin/api-keys/:id/revoke", {
      params: { id: ApiKeyId },
      success: exampled(ApiKey, { ...examples.apiKey, revokedAt: "2026-03-02T10:00:00.000Z" }),
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Revoke an API key",
        description: "Every API process refuses it within a second.",
      }),
    ),
  )
  .middleware(Validation)
  .middleware(AdminAuthorization)
  .annotateMerge(
    OpenApi.annotations({ title: "Admin", description: "For the admin token only." }),
  ) {}
