import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

/**
 * Every REST operation, enumerated from the served OpenAPI document: refused without a key,
 * with the wrong kind of credential or scope, on another user's records, and with hostile path
 * parameters. Each operation needs a case below (a valid request of its own); a new operation
 * without one fails the first test.
 */

interface Operation {
  readonly id: string
  readonly method: "GET" | "POST" | "PATCH" | "DELETE"
  readonly template: string
  readonly admin: boolean
}

/** The ids a request fills its path with: the caller's own, or another user's. */
interface Ids {
  readonly account: string
  readonly transaction: string
  readonly transfer: string
  readonly webhook: string
  readonly export: string
  readonly user: string
  readonly apiKey: string
}

interface Case {
  /** The path parameters: which record each names. */
  readonly params?: (ids: Ids) => Record<string, string>
  readonly body?: (ids: Ids) => unknown
  readonly headers?: Record<string, string>
}

const transaction = (ids: Ids) => ({
  accountId: ids.account,
  direction: "credit",
  amount: 1,
  currency: "EUR",
})
const ifMatch = { "if-match": '"1"' }

const cases: Record<string, Case> = {
  "accounts.create": { body: () => ({ name: "Every", currency: "EUR" }) },
  "accounts.list": {},
  "accounts.get": { params: (ids) => ({ id: ids.account }) },
  "accounts.update": { params: (ids) => ({ id: ids.account }), body: () => ({ name: "Renamed" }) },
  "accounts.balance": { params: (ids) => ({ id: ids.account }) },
  "transactions.create": { body: transaction },
  "transactions.list": {},
  "transactions.bulk": { body: (ids) => ({ transactions: [transaction(ids)] }) },
  "transactions.changes": {},
  "transactions.summary": {},
  "transactions.get": { params: (ids) => ({ id: ids.transaction }) },
  "transactions.update": {
    params: (ids) => ({ id: ids.transaction }),
    body: () => ({ category: "x" }),
    headers: ifMatch,
  },
  "transactions.post": { params: (ids) => ({ id: ids.transaction }), headers: ifMatch },
  "transactions.void": { params: (ids) => ({ id: ids.transaction }), headers: ifMatch },
  "transactions.reverse": { params: (ids) => ({ id: ids.transaction }), headers: ifMatch },
  "transactions.history": { params: (ids) => ({ id: ids.transaction }) },
  "transfers.create": {
    body: (ids) => ({
      fromAccountId: ids.account,
      toAccountId: "acc_00000000000000000000000000",
      amount: 1,
      currency: "EUR",
    }),
  },
  "transfers.get": { params: (ids) => ({ id: ids.transfer }) },
  "webhooks.create": {
    body: () => ({ url: "https://example.com/hook", eventTypes: ["transaction.created"] }),
  },
  "webhooks.list": {},
  "webhooks.update": { params: (ids) => ({ id: ids.webhook }), body: () => ({ status: "active" }) },
  "webhooks.delete": { params: (ids) => ({ id: ids.webhook }) },
  "webhooks.deliveries": { params: (ids) => ({ id: ids.webhook }) },
  "exports.create": { body: (ids) => ({ accountId: ids.account }) },
  "exports.get": { params: (ids) => ({ id: ids.export }) },
  "exports.download": { params: (ids) => ({ id: ids.export }) },
  // A stream: the checks below send it an invalid event id, so a call it admits answers 400
  // at once instead of streaming (live.test.ts follows the stream itself).
  "transactions.live": {},
  "tokens.create": { body: () => ({ scopes: ["read"], ttlSeconds: 60 }) },
  "admin.createUser": { body: () => ({ name: "Every" }) },
  "admin.createApiKey": {
    params: (ids) => ({ userId: ids.user }),
    body: () => ({ name: "every", scopes: ["read"] }),
  },
  "admin.listApiKeys": { params: (ids) => ({ userId: ids.user }) },
  "admin.revokeApiKey": { params: (ids) => ({ id: ids.apiKey }) },
}

/** Queries some operations need to be valid at all. */
const queries: Record<string, string> = {
  "transactions.live": "?lastEventId=not-an-event-id",
  "transactions.summary":
    "?groupBy=day&occurredFrom=2026-01-01T00:00:00Z&occurredTo=2026-02-01T00:00:00Z",
}

let api: TestApi
let operations: ReadonlyArray<Operation>
let others: Ids
let otherKey: string
let readOnly: string
let writeOnly: string
/** A read-write client token of the test user, limited to none of its accounts. */
let clientToken: string

beforeAll(async () => {
  api = await startTestApi()
  const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as Json
  operations = Object.entries<Json>(document.paths).flatMap(([template, byMethod]) =>
    Object.entries<Json>(byMethod).map(([method, operation]) => ({
      id: operation.operationId,
      method: method.toUpperCase() as Operation["method"],
      template,
      admin: (operation.security ?? []).some((scheme: Json) => "adminToken" in scheme),
    })),
  )
  // Another user and one record of every kind, for the isolation checks.
  const other = await api.newUser()
  otherKey = other.key
  const as = { auth: other.key }
  const account = await api.rest("POST", "/v1/accounts", {
    body: { name: "Theirs", currency: "EUR" },
    ...as,
  })
  const second = await api.rest("POST", "/v1/accounts", {
    body: { name: "Theirs too", currency: "EUR" },
    ...as,
  })
  const credited = await api.rest("POST", "/v1/transactions", {
    body: { accountId: account.body.id, direction: "credit", amount: 10, currency: "EUR" },
    ...as,
  })
  const transfer = await api.rest("POST", "/v1/transfers", {
    body: {
      fromAccountId: account.body.id,
      toAccountId: second.body.id,
      amount: 1,
      currency: "EUR",
    },
    ...as,
  })
  const webhook = await api.rest("POST", "/v1/webhooks", {
    body: { url: "https://example.com/theirs", eventTypes: ["transaction.created"] },
    ...as,
  })
  const started = await api.rest("POST", "/v1/exports", {
    body: { accountId: account.body.id },
    ...as,
  })
  others = {
    account: account.body.id,
    transaction: credited.body.id,
    transfer: transfer.body.id,
    webhook: webhook.body.id,
    export: started.body.id,
    user: "usr_00000000000000000000000000",
    apiKey: "key_00000000000000000000000000",
  }
  readOnly = (await api.newUser(["read"])).key
  writeOnly = (await api.newUser(["write"])).key
  const minted = await api.rest("POST", "/v1/tokens", { body: { scopes: ["read", "write"] } })
  clientToken = minted.body.token
})

/** What only a secret API key (or the admin token) may do: a client token is refused 403. */
const keyOnly = (operation: Operation) =>
  operation.admin || operation.id.startsWith("webhooks.") || operation.id === "tokens.create"
afterAll(() => api.close())

const pathOf = (operation: Operation, params: Record<string, string>) =>
  operation.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new Error(`${operation.id}: no value for {${name}}`)
    return encodeURIComponent(value)
  }) + (queries[operation.id] ?? "")

const call = (
  operation: Operation,
  ids: Ids,
  auth: string | null,
  params?: Record<string, string>,
) => {
  const given = cases[operation.id]!
  return api.rest(operation.method, pathOf(operation, params ?? given.params?.(ids) ?? {}), {
    auth,
    ...(given.body === undefined ? {} : { body: given.body(ids) }),
    ...(given.headers === undefined ? {} : { headers: given.headers }),
  })
}

describe("every REST operation", () => {
  it("has a case here, and the document lists every one of them", () => {
    expect(operations.length).toBeGreaterThanOrEqual(29)
    expect(operations.map((operation) => operation.id).sort()).toEqual(Object.keys(cases).sort())
  })

  it("answers 401 Unauthorized without a key, and with an unknown one", async () => {
    for (const operation of operations) {
      for (const auth of [null, "txn_not_a_key"]) {
        const answer = await call(operation, others, auth)
        expect(answer.status, `${operation.id} with ${auth}`).toBe(401)
        expect(answer.body.error.tag).toBe("Unauthorized")
      }
    }
  })

  it("answers 403 Forbidden to the wrong credential: the admin token for a user's, a key for the admin's, a key without the scope", async () => {
    for (const operation of operations) {
      const refusals = operation.admin
        ? [api.key]
        : [api.adminToken, operation.method === "GET" ? writeOnly : readOnly]
      for (const auth of refusals) {
        const answer = await call(operation, others, auth)
        expect(answer.status, `${operation.id}`).toBe(403)
        expect(answer.body.error.tag).toBe("Forbidden")
      }
    }
  })

  it("answers 404 NotFound for another user's record, and changes nothing of it", async () => {
    const named = operations.filter((operation) => operation.template.includes("{"))
    for (const operation of named) {
      const auth = operation.admin ? api.adminToken : api.key
      const answer = await call(operation, others, auth)
      expect(answer.status, operation.id).toBe(404)
      expect(answer.body.error.tag).toBe("NotFound")
    }
    // The other user's records are as they were.
    const account = await api.rest("GET", `/v1/accounts/${others.account}`, { auth: otherKey })
    expect(account.body.name).toBe("Theirs")
    const transaction = await api.rest("GET", `/v1/transactions/${others.transaction}`, {
      auth: otherKey,
    })
    expect(transaction.body).toMatchObject({ status: "posted", version: 1, category: null })
    const webhook = await api.rest("GET", "/v1/webhooks", { auth: otherKey })
    expect(webhook.body.items.map((hook: Json) => hook.id)).toEqual([others.webhook])
  })

  it("answers a client token 403 for what only a key may do, and 404 for another user's records", async () => {
    for (const operation of operations) {
      const answer = await call(operation, others, clientToken)
      if (keyOnly(operation)) {
        expect(answer.status, operation.id).toBe(403)
        expect(answer.body.error.tag).toBe("Forbidden")
      } else if (operation.template.includes("{")) {
        expect(answer.status, operation.id).toBe(404)
        expect(answer.body.error.tag).toBe("NotFound")
      }
    }
  })

  it("answers hostile path parameters 400 naming the parameter or 404, never 5xx", async () => {
    const hostile = [
      "x'; drop table transactions; --",
      "../../etc/passwd",
      "\u0000",
      "ü".repeat(300),
      `acc_${"0".repeat(1000)}`,
    ]
    for (const operation of operations.filter((operation) => operation.template.includes("{"))) {
      const name = /\{([^}]+)\}/.exec(operation.template)![1]!
      const auth = operation.admin ? api.adminToken : api.key
      for (const value of hostile) {
        const params = { ...cases[operation.id]!.params?.(others), [name]: value }
        const answer = await call(operation, others, auth, params)
        expect([400, 404], `${operation.id} with ${JSON.stringify(value.slice(0, 20))}`).toContain(
          answer.status,
        )
        if (answer.status === 400) expect(answer.body.error.issues[0].path).toEqual([name])
      }
    }
  })

  it("never writes a key or the admin token into the logs", () => {
    const logs = api.logs.raw.join("\n")
    for (const secret of [api.key, api.adminToken, readOnly, writeOnly, clientToken]) {
      expect(logs).not.toContain(secret)
    }
  })
})
