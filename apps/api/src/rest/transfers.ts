import { CreateTransfer, Transfer, TransferId } from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as OpenApi from "effect/http-api/OpenApi"
import { Authorization, created, idempotencyHeaders, Validation, withoutKey } from "./common.ts"
import { errorsOf } from "./errors.ts"

export class TransfersGroup extends HttpApiGroup.make("transfers")
  .add(
    HttpApiEndpoint.post("create", "/transfers", {
      headers: idempotencyHeaders,
      payload: withoutKey(CreateTransfer),
      success: created(Transfer),
      error: errorsOf(404, 409, 422),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Move money between two of the caller's accounts",
        description: "A debit and a credit in one currency, written together and linked.",
      }),
    ),
    HttpApiEndpoint.get("get", "/transfers/:id", {
      params: { id: TransferId },
      success: Transfer,
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Get a transfer" })),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Transfers" })) {}
