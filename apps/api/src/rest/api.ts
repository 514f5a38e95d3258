import * as HttpApi from "effect/http-api/HttpApi"
import * as OpenApi from "effect/http-api/OpenApi"
import { AccountsGroup } from "./accounts.ts"
import { AdminGroup } from "./admin.ts"
import { ExportsGroup } from "./exports.ts"
import { TransactionsGroup } from "./transactions.ts"
import { TransfersGroup } from "./transfers.ts"
import { WebhooksGroup } from "./webhooks.ts"

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
      title: "Transaction API",
      version: "1",
      description:
        "Accounts, transactions and transfers in minor units, with typed errors. The same operations as the tRPC API under /trpc.",
    }),
  ) {}
