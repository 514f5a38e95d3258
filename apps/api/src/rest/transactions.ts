import {
  CreateManyTransactions,
  CreateTransactionItem,
  Currency,
  EventKind,
  ListChanges,
  ListTransactions,
  ReverseTransaction,
  SummarizeTransactions,
  Transaction,
  TransactionId,
  UpdateTransaction,
} from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as HttpApiSchema from "effect/http-api/HttpApiSchema"
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

/** `"3"`: a transaction's version as an entity tag. */
export const etagOf = (version: number) => `"${version}"`

/** The version a client last read, sent back as `If-Match: "3"` (a bare `3` is taken too). */
const IfMatch = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^("[1-9][0-9]{0,14}"|[1-9][0-9]{0,14})$/, {
      message: 'Expected the ETag of the version last read, such as "3"',
    }),
  ),
).annotate({
  description:
    "The ETag of the version last read; a stale one answers 409 VersionConflict naming the current version",
})

/** The version an If-Match header names. */
export const versionOf = (ifMatch: string) => Number(ifMatch.replaceAll('"', ""))

const ifMatchHeaders = { "if-match": IfMatch }

/** A transaction with its version as ETag. */
const TransactionOut = exampled(Transaction, examples.transaction)

const versioned = HttpApiSchema.WithHeaders(TransactionOut, {
  etag: Schema.String.annotate({ description: "The transaction's version, for If-Match" }),
})

const path = { id: TransactionId }

const TransactionPage = Schema.Struct({
  items: Schema.Array(TransactionOut),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
}).annotate({
  identifier: "TransactionPage",
  examples: [examples.page(examples.transaction)] as never,
})

const TransactionEvent = Schema.Struct({
  seq: Schema.Number,
  transactionId: TransactionId,
  version: Schema.Number,
  kind: EventKind,
  actor: Schema.String,
  changes: Schema.Record(
    Schema.String,
    Schema.Struct({ from: Schema.Unknown, to: Schema.Unknown }),
  ),
  at: Schema.String,
}).annotate({ identifier: "TransactionEvent", examples: [examples.event] as never })

const ChangesPage = Schema.Struct({
  items: Schema.Array(TransactionEvent),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
}).annotate({ identifier: "ChangesPage", examples: [examples.page(examples.event)] as never })

const TransactionSummary = Schema.Struct({
  groupBy: SummarizeTransactions.fields.groupBy,
  occurredFrom: Schema.String,
  occurredTo: Schema.String,
  groups: Schema.Array(
    Schema.Struct({
      key: Schema.NullOr(Schema.String),
      currency: Currency,
      credits: Schema.Number,
      debits: Schema.Number,
      net: Schema.Number,
      count: Schema.Number,
    }),
  ),
}).annotate({ identifier: "TransactionSummary", examples: [examples.summary] as never })

const Reversal = Schema.Struct({ original: TransactionOut, reversal: TransactionOut }).annotate({
  identifier: "Reversal",
  examples: [
    {
      original: { ...examples.transaction, status: "reversed", version: 2 },
      reversal: { ...examples.transaction, direction: "credit", description: "Refund" },
    },
  ] as never,
})

const { id: _id, expectedVersion: _version, ...updateFields } = UpdateTransaction.fields

/** The statuses a create may answer: its account, funds, key and limits. */
const createErrors = errorsOf(404, 409, 422)

export class TransactionsGroup extends HttpApiGroup.make("transactions")
  .add(
    HttpApiEndpoint.post("create", "/transactions", {
      headers: idempotencyHeaders,
      payload: withExamples(CreateTransactionItem, {
        accountId: "acc_7w3k9d2m4q8x1v6b5n0z2c4f7h",
        direction: "debit",
        amount: 350,
        currency: "EUR",
        description: "Coffee",
        category: "food",
      }),
      success: created(TransactionOut),
      error: createErrors,
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Record a transaction",
        description:
          "A credit or debit in minor units, pending or posted; its balance check, history event, outbox event and ledger entry are written together.",
      }),
    ),
    HttpApiEndpoint.post("bulk", "/transactions/bulk", {
      headers: idempotencyHeaders,
      payload: withExamples(
        Schema.Struct({ transactions: CreateManyTransactions.fields.transactions }),
        {
          transactions: [
            {
              accountId: "acc_7w3k9d2m4q8x1v6b5n0z2c4f7h",
              direction: "credit",
              amount: 10000,
              currency: "EUR",
            },
            {
              accountId: "acc_7w3k9d2m4q8x1v6b5n0z2c4f7h",
              direction: "debit",
              amount: 350,
              currency: "EUR",
            },
          ],
        },
      ),
      success: HttpApiSchema.WithHeaders(
        exampled(Schema.Struct({ transactions: Schema.Array(TransactionOut) }), {
          transactions: [examples.transaction],
        }).pipe(HttpApiSchema.status(201)),
        {
          "idempotent-replayed": Schema.optionalKey(Schema.Literal("true")),
        },
      ),
      error: createErrors,
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Record up to 1,000 transactions at once",
        description:
          "All or none: a refused item refuses the batch, naming its index and field. Balances are checked for the batch as a whole.",
      }),
    ),
    HttpApiEndpoint.get("list", "/transactions", {
      query: ListTransactions,
      success: TransactionPage,
    }).annotateMerge(
      OpenApi.annotations({
        summary: "List transactions",
        description: "Newest first, filtered, a page at a time: pass `nextCursor` as `cursor`.",
      }),
    ),
    HttpApiEndpoint.get("changes", "/transactions/changes", {
      query: ListChanges,
      success: ChangesPage,
    }).annotateMerge(
      OpenApi.annotations({
        summary: "The change feed",
        description:
          "Every change to the caller's transactions in commit order; poll from `nextCursor`.",
      }),
    ),
    HttpApiEndpoint.get("summary", "/transactions/summary", {
      query: SummarizeTransactions,
      success: TransactionSummary,
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Totals by category, day or month",
        description: "Posted money only, per currency.",
      }),
    ),
    HttpApiEndpoint.get("get", "/transactions/:id", {
      params: path,
      success: versioned,
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Get a transaction, its version as ETag" })),
    HttpApiEndpoint.patch("update", "/transactions/:id", {
      params: path,
      headers: ifMatchHeaders,
      payload: withExamples(Schema.Struct(updateFields), { category: "treats", description: null }),
      success: versioned,
      error: errorsOf(404, 409),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Change a transaction's descriptive fields",
        description: "Amounts, accounts and status never change through an update.",
      }),
    ),
    HttpApiEndpoint.post("post", "/transactions/:id/post", {
      params: path,
      headers: ifMatchHeaders,
      success: versioned,
      error: errorsOf(404, 409, 422),
    }).annotateMerge(OpenApi.annotations({ summary: "Post a pending transaction" })),
    HttpApiEndpoint.post("void", "/transactions/:id/void", {
      params: path,
      headers: ifMatchHeaders,
      success: versioned,
      error: errorsOf(404, 409),
    }).annotateMerge(OpenApi.annotations({ summary: "Void a pending transaction" })),
    HttpApiEndpoint.post("reverse", "/transactions/:id/reverse", {
      params: path,
      headers: ifMatchHeaders,
      payload: withExamples(Schema.Struct({ description: ReverseTransaction.fields.description }), {
        description: "Refund",
      }),
      success: Reversal,
      error: errorsOf(404, 409, 422),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Reverse a posted transaction",
        description: "By a new posted transaction in the other direction, linked both ways.",
      }),
    ),
    HttpApiEndpoint.get("history", "/transactions/:id/history", {
      params: path,
      success: exampled(Schema.Array(TransactionEvent), [examples.event]),
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({ summary: "Every change to a transaction, oldest first" }),
    ),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Transactions" })) {}
