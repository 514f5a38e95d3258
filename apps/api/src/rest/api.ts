import * as HttpApi from "effect/http-api/HttpApi"
import * as OpenApi from "effect/http-api/OpenApi"
import { AccountsGroup } from "./accounts.ts"
import { AdminGroup } from "./admin.ts"
import { ExportsGroup } from "./exports.ts"
import { TokensGroup } from "./tokens.ts"
import { TransactionsGroup } from "./transactions.ts"
import { TransfersGroup } from "./transfers.ts"
import { WebhooksGroup } from "./webhooks.ts"

/**
 * The operations the front answers itself, since they stream rather than answer JSON, in the
 * document beside the others: the export download (the parameter, security and errors of
 * `exports.get`, and a CSV body) and live changes (the security and errors of the transaction
 * list, and a stream of server-sent events).
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
  const list = spec.paths["/v1/transactions"].get
  const { 200: _listed, ...listErrors } = list.responses
  spec.paths["/v1/transactions/live"] = {
    get: {
      tags: list.tags,
      operationId: "transactions.live",
      summary: "Stream the caller's transaction changes as they happen",
      description:
        "Server-sent events (`text/event-stream`): each change as `id: <event id>` and `data: <change as JSON>`, in the order of `transactions.changes`. To resume after a dropped connection, send the last id received as `Last-Event-ID` (EventSource does) or `lastEventId`: every later change follows, exactly once. A client token's stream ends with an `error` event (`Unauthorized`) when the token expires.",
      parameters: [
        {
          name: "accountId",
          in: "query",
          required: false,
          description: "Only this account's changes",
          schema: { type: "string", pattern: "^acc_[0-9a-z]{26}$" },
        },
        {
          name: "lastEventId",
          in: "query",
          required: false,
          description: "Resume after this event id",
          schema: { type: "string" },
        },
        {
          name: "last-event-id",
          in: "header",
          required: false,
          description: "Resume after this event id (sent by EventSource on reconnecting)",
          schema: { type: "string" },
        },
      ],
      security: list.security,
      responses: {
        200: {
          description: "The stream of changes, open until the client leaves",
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        ...listErrors,
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
  .add(TokensGroup)
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
