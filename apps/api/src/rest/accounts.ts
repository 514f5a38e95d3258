import {
  Account,
  AccountId,
  CreateAccount,
  Currency,
  ListAccounts,
  Timestamp,
  UpdateAccount,
} from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Schema from "effect/Schema"
import {
  Authorization,
  created,
  exampled,
  idempotencyHeaders,
  Validation,
  withExamples,
} from "./common.ts"
import { errorsOf } from "./errors.ts"
import * as examples from "./examples.ts"

const { idempotencyKey: _key, ...createAccountFields } = CreateAccount.fields
const { id: _id, ...updateAccountFields } = UpdateAccount.fields

const AccountOut = exampled(Account, examples.account)

export const AccountPage = Schema.Struct({
  items: Schema.Array(AccountOut),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
}).annotate({ identifier: "AccountPage", examples: [examples.page(examples.account)] as never })

export const Balance = Schema.Struct({
  accountId: AccountId,
  currency: Currency,
  posted: Schema.Number,
  pending: Schema.Number,
  available: Schema.Number,
  asOf: Schema.NullOr(Schema.String),
}).annotate({ identifier: "Balance", examples: [examples.balance] as never })

const accountPath = { id: AccountId }

export class AccountsGroup extends HttpApiGroup.make("accounts")
  .add(
    HttpApiEndpoint.post("create", "/accounts", {
      headers: idempotencyHeaders,
      payload: withExamples(Schema.Struct(createAccountFields), {
        name: "Wallet",
        currency: "EUR",
        metadata: { owner: "alice" },
      }),
      success: created(AccountOut),
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
      success: AccountOut,
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Get an account" })),
    HttpApiEndpoint.patch("update", "/accounts/:id", {
      params: accountPath,
      payload: withExamples(Schema.Struct(updateAccountFields), { name: "Holidays" }),
      success: AccountOut,
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
