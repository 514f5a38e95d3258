import * as HttpApi from "effect/http-api/HttpApi"
import * as OpenApi from "effect/http-api/OpenApi"
import { AccountsGroup } from "./accounts.ts"
import { AdminGroup } from "./admin.ts"
import { ExportsGroup } from "./exports.ts"
import { TransactionsGroup } from "./transactions.ts"
import { TransfersGroup } from "./transfers.ts"
import { WebhooksGroup } from "./webhooks.ts"

/**
 * The export download, which the front answers itself (it streams a file rather than answer
 * JSON), in the document beside the other operations: the same parameter, security and errors as
 * `exports.get`, and a CSV body.
 */
// biome-ignore lint/suspicious/noExplicitAny: the generated document, as OpenApi's transform takes it
const withDownload = (spec: Record<string, any>) => {
  const get = spec.paths["/v1/exports/{id}"].get
  const { 200: _ok, ...errors } = get.responses
  spec.paths["/v1/exports/{id}/download"] = {
    get: {
      tags: get.tags,
      operationId: "exports.download",
      summary: "Download a completed export's CSV",
      description:
        "Streamed as it is stored. Another user's export, and one missing, expired or not completed yet, answer 404.",
      parameters: get.parameters,
      security: get.security,
      responses: {
        200: {
          description: "The CSV file",
          headers: {
            "content-disposition": {
              schema: { type: "string" },
              description: 'attachment; filename="<id>.csv"',
            },
          },
          content: { "text/csv": { schema: { type: "string" } } },
        },
        ...errors,
      },
    },
  }
  return spec
}

/** The REST API under /v1, one operation per tRPC procedure. */
export class TxnApi extends HttpApi.make("txn")
  .add(AccountsGroup)
  .add(TransactionsGroup)
  .add(TransfersGroup)
  .add(WebhooksGroup)
  .add(ExportsGroup)
  .add(AdminGroup)
  .prefix("/v1")
  .annotate(HttpApi.PayloadParseOptions, { onExcessProperty: "error", errors: "all" })
  .annotate(HttpApi.QueryParseOptions, { onExcessProperty: "error", errors: "all" })
  .annotate(HttpApi.ParamsParseOptions, { errors: "all" })
  .annotateMerge(
    OpenApi.annotations({
      transform: withDownload,
      title: "Transaction API",
      version: "1",
      description:
        "Accounts, transactions and transfers in minor units, with typed errors. The same operations as the tRPC API under /trpc.",
    }),
  ) {}
