import { CreateTransfer, Transfer, TransferId } from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as OpenApi from "effect/http-api/OpenApi"
import {
  Authorization,
  created,
  exampled,
  idempotencyHeaders,
  Validation,
  withExamples,
  withoutKey,
} from "./common.ts"
import { errorsOf } from "./errors.ts"
import * as examples from "./examples.ts"

const TransferOut = exampled(Transfer, examples.transfer)

export class TransfersGroup extends HttpApiGroup.make("transfers")
  .add(
    HttpApiEndpoint.post("create", "/transfers", {
      headers: idempotencyHeaders,
      payload: withExamples(withoutKey(CreateTransfer), {
        fromAccountId: "acc_7w3k9d2m4q8x1v6b5n0z2c4f7h",
        toAccountId: "acc_2p5r8t1y4u7i0o3a6s9d2f5g8h",
        amount: 2500,
        currency: "EUR",
        description: "Savings",
      }),
      success: created(TransferOut),
      error: errorsOf(404, 409, 422),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Move money between two of the caller's accounts",
        description: "A debit and a credit in one currency, written together and linked.",
      }),
    ),
    HttpApiEndpoint.get("get", "/transfers/:id", {
      params: { id: TransferId },
      success: TransferOut,
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Get a transfer" })),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Transfers" })) {}
