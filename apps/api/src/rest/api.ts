import {
  Account,
  AccountId,
  CreateAccount,
  IdempotencyKey,
  ListAccounts,
  Timestamp,
  UpdateAccount,
} from "@txn/domain"
import * as HttpApi from "effect/http-api/HttpApi"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiMiddleware from "effect/http-api/HttpApiMiddleware"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as HttpApiSecurity from "effect/http-api/HttpApiSecurity"
import * as OpenApi from "effect/http-api/OpenApi"
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
    security: { bearer: HttpApiSecurity.bearer },
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

const idempotencyHeaders = {
  "idempotency-key": Schema.optionalKey(IdempotencyKey).annotate({
    description:
      "Retrying with the same key (and the same body) answers the first result again, with `Idempotent-Replayed: true`, instead of creating twice",
  }),
}

/** A created resource: 201, where it now lives, and whether this answer is a replay. */
const created = <S extends Schema.Top>(schema: S) =>
  HttpApiSchema.WithHeaders(schema.pipe(HttpApiSchema.status(201)), {
    location: Schema.String.annotate({ description: "The URL of the created resource" }),
    "idempotent-replayed": Schema.optionalKey(Schema.Literal("true")).annotate({
      description: "Present when this answers an earlier request with the same Idempotency-Key",
    }),
  })

const { idempotencyKey: _key, ...createAccountFields } = CreateAccount.fields
const { id: _id, ...updateAccountFields } = UpdateAccount.fields

export const AccountPage = Schema.Struct({
  items: Schema.Array(Account),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
}).annotate({ identifier: "AccountPage" })

export const Balance = Schema.Struct({
  accountId: AccountId,
  currency: Schema.String,
  posted: Schema.Number,
  pending: Schema.Number,
  available: Schema.Number,
  asOf: Schema.NullOr(Schema.String),
}).annotate({ identifier: "Balance" })

const accountPath = { id: AccountId }

export class AccountsGroup extends HttpApiGroup.make("accounts")
  .add(
    HttpApiEndpoint.post("create", "/accounts", {
      headers: idempotencyHeaders,
      payload: Schema.Struct(createAccountFields),
      success: created(Account),
      error: errorsOf(404, 409, 422),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Open an account",
        description: "An account in one currency; its balances start at zero.",
      }),
    ),
    HttpApiEndpoint.get("list", "/accounts", {
      query: ListAccounts,
      success: AccountPage,
    }).annotateMerge(
      OpenApi.annotations({
        summary: "List accounts",
        description: "Newest first, a page at a time: pass `nextCursor` as `cursor`.",
      }),
    ),
    HttpApiEndpoint.get("get", "/accounts/:id", {
      params: accountPath,
      success: Account,
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Get an account" })),
    HttpApiEndpoint.patch("update", "/accounts/:id", {
      params: accountPath,
      payload: Schema.Struct(updateAccountFields),
      success: Account,
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Rename an account or change its settings",
        description: "Its currency never changes.",
      }),
    ),
    HttpApiEndpoint.get("balance", "/accounts/:id/balance", {
      params: accountPath,
      query: { asOf: Schema.optionalKey(Timestamp) },
      success: Balance,
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "An account's balances",
        description:
          "In minor units: `posted` (settled), `pending` (with pending credits and debits) and `available` (what may still be spent); as of a past time with `asOf`.",
      }),
    ),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Accounts" })) {}

/** The REST API under /v1, one operation per tRPC procedure. */
export class TxnApi extends HttpApi.make("txn")
  .add(AccountsGroup)
  .prefix("/v1")
  .annotate(HttpApi.PayloadParseOptions, { onExcessProperty: "error", errors: "all" })
  .annotate(HttpApi.QueryParseOptions, { onExcessProperty: "error", errors: "all" })
  .annotate(HttpApi.ParamsParseOptions, { errors: "all" })
  .annotateMerge(
    OpenApi.annotations({
      title: "Transaction API",
      version: "1",
      description:
        "Accounts, transactions and transfers in minor units, with typed errors. The same operations as the tRPC API under /trpc.",
    }),
  ) {}
