import { ClientToken, CreateClientToken } from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
import * as OpenApi from "effect/http-api/OpenApi"
import { Authorization, exampled, Validation, withExamples } from "./common.ts"
import { errorsOf } from "./errors.ts"
import * as examples from "./examples.ts"

export class TokensGroup extends HttpApiGroup.make("tokens")
  .add(
    HttpApiEndpoint.post("create", "/tokens", {
      payload: withExamples(
        CreateClientToken,
        { scopes: ["read"], accountIds: ["acc_7w3k9d2m4q8x1v6b5n0z2c4f7h"], ttlSeconds: 900 },
        { scopes: ["read", "write"] },
      ),
      success: exampled(ClientToken, examples.clientToken).pipe(HttpApiSchema.status(201)),
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Mint a short-lived client token for a browser",
        description:
          "For your server, with its secret API key: the token (`txnct_...`, shown this once) acts for the same user with the scopes asked for (at most the key's), only on `accountIds` when given (each must be the user's: 404 otherwise), for `ttlSeconds` (1 to 3600, default 900). It stops working when it expires or its key is revoked. A token cannot mint tokens, see or manage webhooks, or manage keys; one limited to accounts cannot open accounts or export, and answers 404 for anything outside its accounts, which lists, summaries and the change feed leave out.",
      }),
    ),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Client tokens" })) {}
