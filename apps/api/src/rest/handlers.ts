import {
  Access,
  Accounts,
  type DomainError,
  Exports,
  type Transaction,
  Transactions,
  Transfers,
  Webhooks,
} from "@txn/domain"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as Layer from "effect/Layer"
import { withinRequest } from "../withinRequest.ts"
import { TxnApi } from "./api.ts"
import { errorBody, internalErrorBody } from "./errors.ts"
import { middlewareLayer, RestCall } from "./middleware.ts"
import { etagOf, versionOf } from "./transactions.ts"

/**
 * Runs a use case for the REST call: domain errors become REST error answers, defects a logged
 * 500 that names the request id.
 */
const run = <A, E extends DomainError, R>(effect: Effect.Effect<A, E, R>) =>
  RestCall.use((call) =>
    withinRequest(call)(effect).pipe(
      Effect.catchCause((cause) => {
        const failure = Cause.findErrorOption(cause)
        if (failure._tag === "Some") {
          return Effect.fail(errorBody(failure.value, call.requestId) as never)
        }
        call.log.error({ requestId: call.requestId, cause: Cause.pretty(cause) }, "request failed")
        return Effect.fail(internalErrorBody(call.requestId) as never)
      }),
    ),
  )

/**
 * A success answered as it is: the use cases' values are already their JSON form, so they skip
 * HttpApi's encoding through the schema, which would check every field of every row again (it
 * doubled the CPU of a page of 50). The tests check every answer against the document instead.
 */
const json = (body: unknown, options?: { status?: number; headers?: Record<string, string> }) =>
  HttpServerResponse.jsonUnsafe(body, options)

/** A use case run for the REST call, its value the answer. */
const useCase = <A, E extends DomainError, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(run(effect), (value) => json(value))

/** An Idempotency-Key header as the use case's input field. */
const keyOf = (key: string | undefined) => (key === undefined ? {} : { idempotencyKey: key })

const userIdOf = RestCall.useSync(({ caller }) =>
  caller.kind === "user" ? caller.userId : (undefined as never),
)

/** A create's answer: 201, its Location, and whether it replays an earlier request. */
const created = <A extends { readonly id: string; readonly replayed?: true }>(
  collection: string,
  result: A,
) => {
  const { replayed, ...body } = result
  return json(body, {
    status: 201,
    headers: {
      location: `/v1/${collection}/${result.id}`,
      ...(replayed === true ? { "idempotent-replayed": "true" } : {}),
    },
  })
}

const AccountsLive = HttpApiBuilder.group(TxnApi, "accounts", (handlers) =>
  handlers
    .handle("create", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Accounts.use((accounts) =>
            accounts.create(userId, {
              ...payload,
              ...keyOf(headers["idempotency-key"]),
            }),
          ),
        ),
      ).pipe(Effect.map((account) => created("accounts", account))),
    )
    .handle("list", ({ query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.list(userId, query))),
      ),
    )
    .handle("get", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.get(userId, params))),
      ),
    )
    .handle("update", ({ params, payload }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.update(userId, { ...payload, id: params.id }))),
      ),
    )
    .handle("balance", ({ params, query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Accounts.use((accounts) => accounts.balance(userId, { ...params, ...query }))),
      ),
    ),
)

/** A transaction with its version as ETag. */
const versioned = (transaction: Transaction) =>
  json(transaction, { headers: { etag: etagOf(transaction.version) } })

const TransactionsLive = HttpApiBuilder.group(TxnApi, "transactions", (handlers) =>
  handlers
    .handle("create", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Transactions.use((t) =>
            t.create(userId, { ...payload, ...keyOf(headers["idempotency-key"]) }),
          ),
        ),
      ).pipe(Effect.map((transaction) => created("transactions", transaction))),
    )
    .handle("bulk", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Transactions.use((t) =>
            t.createMany(userId, { ...payload, ...keyOf(headers["idempotency-key"]) }),
          ),
        ),
      ).pipe(
        Effect.map(({ replayed, transactions }) =>
          json(
            { transactions },
            {
              status: 201,
              headers: replayed === true ? { "idempotent-replayed": "true" } : {},
            },
          ),
        ),
      ),
    )
    .handle("list", ({ query }) =>
      Effect.flatMap(userIdOf, (userId) => useCase(Transactions.use((t) => t.list(userId, query)))),
    )
    .handle("changes", ({ query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Transactions.use((t) => t.changes(userId, query))),
      ),
    )
    .handle("summary", ({ query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Transactions.use((t) => t.summary(userId, query))),
      ),
    )
    .handle("get", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(Transactions.use((t) => t.get(userId, params))),
      ).pipe(Effect.map(versioned)),
    )
    .handle("update", ({ params, headers, payload }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Transactions.use((t) =>
            t.update(userId, {
              ...payload,
              id: params.id,
              expectedVersion: versionOf(headers["if-match"]),
            }),
          ),
        ),
      ).pipe(Effect.map(versioned)),
    )
    .handle("post", ({ params, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Transactions.use((t) =>
            t.post(userId, { id: params.id, expectedVersion: versionOf(headers["if-match"]) }),
          ),
        ),
      ).pipe(Effect.map(versioned)),
    )
    .handle("void", ({ params, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Transactions.use((t) =>
            t.void(userId, { id: params.id, expectedVersion: versionOf(headers["if-match"]) }),
          ),
        ),
      ).pipe(Effect.map(versioned)),
    )
    .handle("reverse", ({ params, headers, payload }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(
          Transactions.use((t) =>
            t.reverse(userId, {
              ...payload,
              id: params.id,
              expectedVersion: versionOf(headers["if-match"]),
            }),
          ),
        ),
      ),
    )
    .handle("history", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Transactions.use((t) => t.history(userId, params))),
      ),
    ),
)

const TransfersLive = HttpApiBuilder.group(TxnApi, "transfers", (handlers) =>
  handlers
    .handle("create", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Transfers.use((t) =>
            t.create(userId, { ...payload, ...keyOf(headers["idempotency-key"]) }),
          ),
        ),
      ).pipe(Effect.map((transfer) => created("transfers", transfer))),
    )
    .handle("get", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) => useCase(Transfers.use((t) => t.get(userId, params)))),
    ),
)

const ExportsLive = HttpApiBuilder.group(TxnApi, "exports", (handlers) =>
  handlers
    .handle("create", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Exports.use((e) =>
            e.create(userId, { ...payload, ...keyOf(headers["idempotency-key"]) }),
          ),
        ),
      ).pipe(Effect.map((started) => created("exports", started))),
    )
    .handle("get", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) => useCase(Exports.use((e) => e.get(userId, params)))),
    ),
)

const WebhooksLive = HttpApiBuilder.group(TxnApi, "webhooks", (handlers) =>
  handlers
    .handle("create", ({ payload, headers }) =>
      Effect.flatMap(userIdOf, (userId) =>
        run(
          Webhooks.use((w) =>
            w.create(userId, { ...payload, ...keyOf(headers["idempotency-key"]) }),
          ),
        ),
      ).pipe(Effect.map((webhook) => created("webhooks", webhook))),
    )
    .handle("list", ({ query }) =>
      Effect.flatMap(userIdOf, (userId) => useCase(Webhooks.use((w) => w.list(userId, query)))),
    )
    .handle("update", ({ params, payload }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Webhooks.use((w) => w.update(userId, { ...payload, id: params.id }))),
      ),
    )
    .handle("delete", ({ params }) =>
      Effect.flatMap(userIdOf, (userId) => useCase(Webhooks.use((w) => w.delete(userId, params)))),
    )
    .handle("deliveries", ({ params, query }) =>
      Effect.flatMap(userIdOf, (userId) =>
        useCase(Webhooks.use((w) => w.deliveries(userId, { ...query, id: params.id }))),
      ),
    ),
)

const TokensLive = HttpApiBuilder.group(TxnApi, "tokens", (handlers) =>
  handlers.handle("create", ({ payload }) =>
    Effect.flatMap(
      RestCall.useSync(({ caller }) => caller),
      (caller) =>
        caller.kind === "user"
          ? Effect.map(run(Access.use((a) => a.createClientToken(caller, payload))), (token) =>
              json(token, { status: 201 }),
            )
          : Effect.die(new Error("Authorization lets only users through")),
    ),
  ),
)

const AdminLive = HttpApiBuilder.group(TxnApi, "admin", (handlers) =>
  handlers
    .handle("createUser", ({ payload }) =>
      Effect.map(run(Access.use((a) => a.createUser(payload))), (user) =>
        json(user, { status: 201 }),
      ),
    )
    .handle("createApiKey", ({ params, payload }) =>
      Effect.map(
        run(Access.use((a) => a.createApiKey({ ...payload, userId: params.userId }))),
        (created) => json(created, { status: 201 }),
      ),
    )
    .handle("listApiKeys", ({ params }) => useCase(Access.use((a) => a.listApiKeys(params))))
    .handle("revokeApiKey", ({ params }) => useCase(Access.use((a) => a.revokeApiKey(params)))),
)

/** Every group's handlers and the middleware, needing the app's services and the RestCall. */
export const handlersLayer = Layer.mergeAll(
  AccountsLive,
  TransactionsLive,
  TransfersLive,
  ExportsLive,
  WebhooksLive,
  TokensLive,
  AdminLive,
).pipe(
  // Each group looks its middleware up when it is built.
  Layer.provide(middlewareLayer),
)
