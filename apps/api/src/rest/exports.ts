import { CreateExport, Export, ExportId } from "@txn/domain"
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

const ExportOut = exampled(Export, examples.exported)

export class ExportsGroup extends HttpApiGroup.make("exports")
  .add(
    HttpApiEndpoint.post("create", "/exports", {
      headers: idempotencyHeaders,
      payload: withExamples(withoutKey(CreateExport), {
        accountId: "acc_7w3k9d2m4q8x1v6b5n0z2c4f7h",
        occurredFrom: "2026-01-01T00:00:00Z",
      }),
      success: created(ExportOut),
      error: errorsOf(409, 422),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Start a CSV export of transactions",
        description:
          "Built in the background; follow it with GET, then download it from `downloadUrl` (`GET /v1/exports/{id}/download`, CSV).",
      }),
    ),
    HttpApiEndpoint.get("get", "/exports/:id", {
      params: { id: ExportId },
      success: ExportOut,
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "An export and its progress" })),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Exports" })) {}
