import { once } from "node:events"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { PgCredentialCache, PgDatabase } from "@txn/db"
import { testDatabaseUrl, testDirectDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { asModule } from "../../../packages/client/test/readmeModule.ts"
import { readmeSnippet } from "../../../scripts/readme.ts"
import {
  type Input,
  type InputArgs,
  type Json,
  type MutationPath,
  ok,
  type QueryPath,
  startTestApi,
  type TestApi,
} from "./harness.ts"

/**
 * Client tokens: minted by a server with its secret key, used by a browser. Every restriction is
 * checked through both doors, tRPC and REST, against the real API and PostgreSQL.
 */
let api: TestApi
let database: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>
/** The test user's accounts: a token limited to `mine` and `savings` must not reach `other`. */
let mine: Json
let savings: Json
let other: Json
/** One posted transaction on each of those accounts. */
let onMine: Json
let onOther: Json
/** Transfers mine -> savings (inside the limit) and mine -> other (half outside). */
let inside: Json
let halfOutside: Json
/** Every token minted here, for the check that none leaks. */
const minted: Array<string> = []
/** Every answer but the mints', for the same check. */
const answers: Array<unknown> = []

type Answer = { status: number; body: Json }

const record = <A extends Answer>(answer: A): A => {
  answers.push(answer.body)
  return answer
}

/** tRPC calls with `auth` as the bearer token. */
const as = (auth: string) => ({
  query: async <Path extends QueryPath>(path: Path, ...input: InputArgs<Path>) =>
    record(await api.as(auth).query(path, ...input)),
  mutate: async <Path extends MutationPath>(path: Path, ...input: InputArgs<Path>) =>
    record(await api.as(auth).mutate(path, ...input)),
  rest: async (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ) => record(await api.rest(method, path, { ...init, auth })),
})

/** A token minted through tRPC with the test user's key (or `key`). */
const mint = async (input: Input<"tokens.create">, key = api.key) => {
  const token = ok(await api.as(key).mutate("tokens.create", input))
  minted.push(token.token)
  return token
}

const sql = <A>(body: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  database.runPromise(SqlClient.SqlClient.use(body).pipe(Effect.orDie))

/** Moves the token's life an hour back, so it expired a moment ago. */
const expire = (token: string) =>
  sql(
    (sql) => sql`
      update client_tokens
         set created_at = created_at - interval '1 hour 1 second',
             expires_at = created_at - interval '1 second'
       where secret_hash = encode(sha256(convert_to(${token}, 'UTF8')), 'hex')`,
  )

const tagOf = (answer: Answer) => answer.body.error?.data?.tag ?? answer.body.error?.tag

beforeAll(async () => {
  api = await startTestApi()
  database = ManagedRuntime.make(
    PgDatabase.layer({ url: testDirectDatabaseUrl() ?? testDatabaseUrl(), maxConnections: 1 }).pipe(
      Layer.orDie,
    ),
  )
  const key = as(api.key)
  const open = async (name: string) =>
    ok(await key.mutate("accounts.create", { name, currency: "EUR" }))
  mine = await open("Mine")
  savings = await open("Savings")
  other = await open("Other")
  const credit = async (accountId: string) =>
    ok(
      await key.mutate("transactions.create", {
        accountId,
        direction: "credit",
        amount: 10_000,
        currency: "EUR",
        category: "salary",
      }),
    )
  onMine = await credit(mine.id)
  await credit(savings.id)
  onOther = await credit(other.id)
  const transfer = async (toAccountId: string) =>
    ok(
      await key.mutate("transfers.create", {
        fromAccountId: mine.id,
        toAccountId,
        amount: 100,
        currency: "EUR",
      }),
    )
  inside = await transfer(savings.id)
  halfOutside = await transfer(other.id)
})
afterAll(async () => {
  await api.close()
  await database.dispose()
})

describe("minting client tokens", () => {
  it("through tRPC: a txnct_ token with the scopes, accounts and lifetime asked for (15 minutes unless told)", async () => {
    const before = Date.now()
    const readOnly = await mint({ scopes: ["read"] })
    expect(readOnly.token).toMatch(/^txnct_[A-Za-z0-9_-]{43}$/)
    expect(readOnly).toMatchObject({ scopes: ["read"], accountIds: null })
    const lifetime = Date.parse(readOnly.expiresAt) - before
    expect(lifetime).toBeGreaterThan(899_000)
    expect(lifetime).toBeLessThan(905_000)

    const limited = await mint({
      scopes: ["read", "write"],
      accountIds: [mine.id, savings.id],
      ttlSeconds: 60,
    })
    expect(limited).toMatchObject({
      scopes: ["read", "write"],
      accountIds: [mine.id, savings.id],
    })
    expect(Date.parse(limited.expiresAt) - before).toBeLessThan(65_000)
    expect(limited.token).not.toBe(readOnly.token)
  })

  it("through REST: 201 with the token, as the document describes it", async () => {
    const answer = await api.rest("POST", "/v1/tokens", {
      body: { scopes: ["read"], accountIds: [mine.id], ttlSeconds: 3600 },
    })
    expect(answer.status).toBe(201)
    minted.push(answer.body.token)
    expect(answer.body).toMatchObject({ scopes: ["read"], accountIds: [mine.id] })
    expect(answer.body.token).toMatch(/^txnct_[A-Za-z0-9_-]{43}$/)
    const works = await as(answer.body.token).rest("GET", `/v1/accounts/${mine.id}`)
    expect(works.status).toBe(200)
  })

  it("refuses bad input with a 400 naming the field, through tRPC and REST", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ scopes: ["read"], ttlSeconds: 0 }, "ttlSeconds"],
      [{ scopes: ["read"], ttlSeconds: 3601 }, "ttlSeconds"],
      [{ scopes: ["read"], ttlSeconds: 1.5 }, "ttlSeconds"],
      [{ scopes: ["read"], ttlSeconds: "60" }, "ttlSeconds"],
      [{ scopes: [] }, "scopes"],
      [{ scopes: ["admin"] }, "scopes.0"],
      [{ scopes: ["read", "read"] }, "scopes"],
      [{}, "scopes"],
      [{ scopes: ["read"], accountIds: [] }, "accountIds"],
      [{ scopes: ["read"], accountIds: [mine.id, mine.id] }, "accountIds"],
      [{ scopes: ["read"], accountIds: ["acc_nope"] }, "accountIds.0"],
      [
        {
          scopes: ["read"],
          accountIds: Array.from({ length: 101 }, (_, i) => `acc_${String(i).padStart(26, "0")}`),
        },
        "accountIds",
      ],
      [{ scopes: ["read"], userId: "usr_00000000000000000000000000" }, "userId"],
    ]
    for (const [input, field] of cases) {
      const trpc = await api.call("tokens.create", input)
      expect(trpc.status, JSON.stringify(input)).toBe(400)
      expect(trpc.body.error.data.tag).toBe("ValidationError")
      expect(trpc.body.error.data.issues.map((i: Json) => i.path.join("."))).toContain(field)
      const rest = await api.rest("POST", "/v1/tokens", { body: input })
      expect(rest.status, JSON.stringify(input)).toBe(400)
      expect(rest.body.error.issues.map((i: Json) => i.path.join("."))).toContain(field)
    }
  })

  it("refuses an account not the user's with 404 naming it, through tRPC and REST", async () => {
    const stranger = await api.newUser()
    const theirs = ok(
      await as(stranger.key).mutate("accounts.create", { name: "Theirs", currency: "EUR" }),
    )
    for (const id of [theirs.id, "acc_00000000000000000000000000"]) {
      const trpc = await api.mutate("tokens.create", {
        scopes: ["read"],
        accountIds: [mine.id, id],
      })
      expect(trpc.status).toBe(404)
      expect(trpc.body.error.data).toMatchObject({ tag: "NotFound", details: { id } })
      const rest = await api.rest("POST", "/v1/tokens", {
        body: { scopes: ["read"], accountIds: [id] },
      })
      expect(rest.status).toBe(404)
      expect(rest.body.error).toMatchObject({
        tag: "NotFound",
        details: { resource: "account", id },
      })
    }
  })

  it("refuses scopes beyond the key's with 403, and a read-only key (minting needs write)", async () => {
    const writeOnly = await api.newUser(["write"])
    const above = await api.as(writeOnly.key).mutate("tokens.create", { scopes: ["read"] })
    expect(above.status).toBe(403)
    expect(above.body.error.data).toMatchObject({
      tag: "Forbidden",
      details: { requiredScope: "read" },
    })
    const rest = await api.rest("POST", "/v1/tokens", {
      body: { scopes: ["read", "write"] },
      auth: writeOnly.key,
    })
    expect(rest.status).toBe(403)
    const readOnly = await api.newUser(["read"])
    const reader = await api.as(readOnly.key).mutate("tokens.create", { scopes: ["read"] })
    expect(reader.status).toBe(403)
    expect(reader.body.error.data.details.requiredScope).toBe("write")
  })
})

describe("a client token", () => {
  it("read-only: reads, and every write answers 403 requiring write, through tRPC and REST", async () => {
    const { token } = await mint({ scopes: ["read"] })
    const browser = as(token)
    expect(ok(await browser.query("accounts.get", { id: mine.id })).id).toBe(mine.id)
    const write = await browser.mutate("transactions.create", {
      accountId: mine.id,
      direction: "debit",
      amount: 1,
      currency: "EUR",
    })
    expect(write.status).toBe(403)
    expect(write.body.error.data).toMatchObject({
      tag: "Forbidden",
      details: { requiredScope: "write" },
    })
    expect(write.body.error.message).toBe("This client token lacks the write scope")
    expect((await browser.rest("GET", "/v1/accounts")).status).toBe(200)
    const rest = await browser.rest("PATCH", `/v1/accounts/${mine.id}`, { body: { name: "No" } })
    expect(rest.status).toBe(403)
    expect(rest.body.error.details.requiredScope).toBe("write")
  })

  it("cannot mint tokens, see or manage webhooks, or manage keys (403), through tRPC and REST", async () => {
    const { token } = await mint({ scopes: ["read", "write"] })
    const browser = as(token)
    const refusals = [
      await browser.mutate("tokens.create", { scopes: ["read"] }),
      await browser.query("webhooks.list", {}),
      await browser.mutate("webhooks.create", {
        url: "https://example.com/hook",
        eventTypes: ["transaction.created"],
      }),
      await browser.mutate("admin.users.create", { name: "Mallory" }),
      await browser.mutate("admin.apiKeys.create", {
        userId: api.userId,
        name: "stolen",
        scopes: ["read"],
      }),
      await browser.rest("POST", "/v1/tokens", { body: { scopes: ["read"] } }),
      await browser.rest("GET", "/v1/webhooks"),
      await browser.rest("POST", "/v1/webhooks", {
        body: { url: "https://example.com/hook", eventTypes: ["transaction.created"] },
      }),
      await browser.rest("POST", "/v1/admin/users", { body: { name: "Mallory" } }),
      await browser.rest("GET", `/v1/admin/users/${api.userId}/api-keys`),
    ]
    for (const answer of refusals) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(403)
      expect(tagOf(answer)).toBe("Forbidden")
    }
    expect(refusals[0]!.body.error.message).toMatch(/client token cannot mint tokens/)
    expect(refusals[1]!.body.error.message).toMatch(/client token cannot see or manage webhooks/)
  })

  it("without an account limit may open accounts and export", async () => {
    const browser = as((await mint({ scopes: ["read", "write"] })).token)
    ok(await browser.mutate("accounts.create", { name: "From the browser", currency: "EUR" }))
    const started = await browser.rest("POST", "/v1/exports", { body: { accountId: mine.id } })
    expect(started.status).toBe(201)
    expect((await browser.rest("GET", `/v1/exports/${started.body.id}`)).status).toBe(200)
  })
})

describe("a client token limited to some accounts", () => {
  let browser: ReturnType<typeof as>
  let reader: ReturnType<typeof as>
  beforeAll(async () => {
    browser = as(
      (await mint({ scopes: ["read", "write"], accountIds: [mine.id, savings.id] })).token,
    )
    reader = as((await mint({ scopes: ["read"], accountIds: [mine.id] })).token)
  })

  /** The answer another user gets for the same id: the limited token must get exactly that. */
  const foreignAnswer = async (path: string, input: Json) => {
    const stranger = await api.newUser()
    return api.call(path, input, { method: "GET", auth: stranger.key })
  }

  it("reads an account or transaction outside them as 404, exactly as another user would", async () => {
    for (const [path, input] of [
      ["accounts.get", { id: other.id }],
      ["accounts.balance", { id: other.id }],
      ["transactions.get", { id: onOther.id }],
      ["transactions.history", { id: onOther.id }],
      ["transfers.get", { id: halfOutside.id }],
    ] as const) {
      const answer = await browser.query(path, input)
      const foreign = await foreignAnswer(path, input)
      expect(answer.status, path).toBe(404)
      expect({ ...answer.body.error, data: { ...answer.body.error.data, requestId: 0 } }).toEqual({
        ...foreign.body.error,
        data: { ...foreign.body.error.data, requestId: 0 },
      })
    }
    expect(ok(await browser.query("accounts.get", { id: savings.id })).id).toBe(savings.id)
    expect(ok(await browser.query("transactions.get", { id: onMine.id })).id).toBe(onMine.id)
    expect(ok(await browser.query("transfers.get", { id: inside.id })).id).toBe(inside.id)
    for (const path of [
      `/v1/accounts/${other.id}`,
      `/v1/accounts/${other.id}/balance`,
      `/v1/transactions/${onOther.id}`,
      `/v1/transactions/${onOther.id}/history`,
      `/v1/transfers/${halfOutside.id}`,
    ]) {
      const answer = await browser.rest("GET", path)
      expect(answer.status, path).toBe(404)
      expect(answer.body.error.tag).toBe("NotFound")
    }
    expect((await browser.rest("GET", `/v1/transactions/${onMine.id}`)).status).toBe(200)
  })

  it("lists, summarizes and follows the change feed of its accounts only, through tRPC and REST", async () => {
    const accounts = ok(await browser.query("accounts.list", {}))
    expect(accounts.items.map((a: Json) => a.id).sort()).toEqual([mine.id, savings.id].sort())
    const restAccounts = await browser.rest("GET", "/v1/accounts")
    expect(restAccounts.body.items.map((a: Json) => a.id).sort()).toEqual(
      [mine.id, savings.id].sort(),
    )

    const all = ok(await as(api.key).query("transactions.list", { limit: 200 }))
    const expected = all.items
      .filter((t: Json) => t.accountId === mine.id || t.accountId === savings.id)
      .map((t: Json) => t.id)
    expect(expected.length).toBeLessThan(all.items.length)
    const listed = ok(await browser.query("transactions.list", { limit: 200 }))
    expect(listed.items.map((t: Json) => t.id)).toEqual(expected)
    const restListed = await browser.rest("GET", "/v1/transactions?limit=200")
    expect(restListed.body.items.map((t: Json) => t.id)).toEqual(expected)
    const outside = ok(await browser.query("transactions.list", { accountId: other.id }))
    expect(outside.items).toEqual([])
    const onlyMine = ok(await reader.query("transactions.list", { limit: 200 }))
    expect(new Set(onlyMine.items.map((t: Json) => t.accountId))).toEqual(new Set([mine.id]))

    const range = {
      groupBy: "category",
      occurredFrom: "2000-01-01T00:00:00Z",
      occurredTo: "2100-01-01T00:00:00Z",
    } as const
    const summary = ok(await browser.query("transactions.summary", range))
    const salary = summary.groups.find((g: Json) => g.key === "salary")
    expect(salary).toMatchObject({ credits: 20_000, count: 2 })
    const restSummary = await browser.rest(
      "GET",
      `/v1/transactions/summary?${new URLSearchParams(range)}`,
    )
    expect(restSummary.body.groups.find((g: Json) => g.key === "salary").count).toBe(2)

    // The feed holds events back until every older write has settled: wait for the key's view.
    const expectedEvents = async () => {
      const events = ok(await as(api.key).query("transactions.changes", { limit: 200 })).items
      return events.length >= 7 ? events : undefined
    }
    let events: Json
    for (let i = 0; i < 50 && events === undefined; i++) {
      events = await expectedEvents()
      if (events === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const reached = new Set(expected)
    const visible = events.filter((e: Json) => reached.has(e.transactionId)).map((e: Json) => e.seq)
    expect(visible.length).toBeLessThan(events.length)
    const feed = ok(await browser.query("transactions.changes", { limit: 200 }))
    expect(feed.items.map((e: Json) => e.seq)).toEqual(visible)
    const restFeed = await browser.rest("GET", "/v1/transactions/changes?limit=200")
    expect(restFeed.body.items.map((e: Json) => e.seq)).toEqual(visible)
  })

  it("writes only inside them: outside answers 404 and changes nothing, through tRPC and REST", async () => {
    const debit = (accountId: string): Input<"transactions.create"> => ({
      accountId,
      direction: "debit",
      amount: 1,
      currency: "EUR",
    })
    const refused = [
      await browser.mutate("transactions.create", debit(other.id)),
      await browser.mutate("transactions.createMany", {
        transactions: [debit(mine.id), debit(other.id)],
      }),
      await browser.mutate("transfers.create", {
        fromAccountId: mine.id,
        toAccountId: other.id,
        amount: 1,
        currency: "EUR",
      }),
      await browser.mutate("transfers.create", {
        fromAccountId: other.id,
        toAccountId: mine.id,
        amount: 1,
        currency: "EUR",
      }),
      await browser.mutate("accounts.update", { id: other.id, name: "Mine now" }),
      await browser.mutate("transactions.update", {
        id: onOther.id,
        expectedVersion: 1,
        category: "x",
      }),
      await browser.mutate("transactions.void", { id: onOther.id, expectedVersion: 1 }),
      await browser.mutate("transactions.post", { id: onOther.id, expectedVersion: 1 }),
      await browser.mutate("transactions.reverse", { id: onOther.id, expectedVersion: 1 }),
      await browser.rest("POST", "/v1/transactions", { body: debit(other.id) }),
      await browser.rest("POST", "/v1/transactions/bulk", {
        body: { transactions: [debit(other.id)] },
      }),
      await browser.rest("POST", "/v1/transfers", {
        body: { fromAccountId: savings.id, toAccountId: other.id, amount: 1, currency: "EUR" },
      }),
      await browser.rest("PATCH", `/v1/accounts/${other.id}`, { body: { name: "Mine now" } }),
      await browser.rest("PATCH", `/v1/transactions/${onOther.id}`, {
        body: { category: "x" },
        headers: { "if-match": '"1"' },
      }),
      await browser.rest("POST", `/v1/transactions/${onOther.id}/reverse`, {
        headers: { "if-match": '"1"' },
      }),
    ]
    for (const answer of refused) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(404)
      expect(tagOf(answer)).toBe("NotFound")
    }
    expect(refused[1]!.body.error.data.details).toMatchObject({ index: 1, field: "accountId" })
    expect(refused[2]!.body.error.data.details.id).toBe(other.id)

    // Nothing of `other` changed.
    const key = as(api.key)
    expect(ok(await key.query("accounts.get", { id: other.id })).name).toBe("Other")
    expect(ok(await key.query("transactions.get", { id: onOther.id }))).toEqual(onOther)
    expect(ok(await key.query("accounts.balance", { id: other.id })).posted).toBe(10_100)

    // Inside, the same writes work.
    ok(await browser.mutate("transactions.create", debit(mine.id)))
    ok(
      await browser.mutate("transfers.create", {
        fromAccountId: mine.id,
        toAccountId: savings.id,
        amount: 1,
        currency: "EUR",
      }),
    )
    ok(await browser.mutate("accounts.update", { id: savings.id, name: "Savings!" }))
    ok(
      await browser.mutate("transactions.update", {
        id: onMine.id,
        expectedVersion: 1,
        category: "pay",
      }),
    )
    expect(
      (await browser.rest("POST", "/v1/transactions", { body: debit(savings.id) })).status,
    ).toBe(201)
  })

  it("cannot open accounts or export (403), through tRPC and REST", async () => {
    const refusals = [
      await browser.mutate("accounts.create", { name: "New", currency: "EUR" }),
      await browser.mutate("exports.create", { accountId: mine.id }),
      await browser.rest("POST", "/v1/accounts", { body: { name: "New", currency: "EUR" } }),
      await browser.rest("POST", "/v1/exports", { body: { accountId: mine.id } }),
    ]
    for (const answer of refusals) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(403)
      expect(tagOf(answer)).toBe("Forbidden")
    }
    expect(refusals[0]!.body.error.data.details.requiredScope).toBe("allAccounts")
  })
})

describe("a client token's end", () => {
  it("is refused (401) once expired, also when this process holds it", async () => {
    const held = await mint({ scopes: ["read"], ttlSeconds: 1 })
    expect((await as(held.token).query("accounts.list", {})).status).toBe(200)
    await new Promise((resolve) =>
      setTimeout(resolve, Date.parse(held.expiresAt) - Date.now() + 50),
    )
    const late = await as(held.token).query("accounts.list", {})
    expect(late.status).toBe(401)
    expect((await as(held.token).rest("GET", "/v1/accounts")).status).toBe(401)

    const fresh = await mint({ scopes: ["read"], ttlSeconds: 3600 })
    await expire(fresh.token)
    expect((await as(fresh.token).query("accounts.list", {})).status).toBe(401)
    expect((await as(fresh.token).rest("GET", "/v1/accounts")).status).toBe(401)
  })

  it("comes with its key's revocation, on this process and on another", async () => {
    const second = await startTestApi()
    try {
      await expect
        .poll(() =>
          second.logs.raw.some((line) => line.includes(PgCredentialCache.listeningMessage)),
        )
        .toBe(true)
      const owner = await api.newUser()
      const { token } = await mint({ scopes: ["read"] }, owner.key)
      const statusOn = async (target: TestApi) =>
        (await target.as(token).query("accounts.list", {})).status
      // Both processes hold it now.
      expect(await statusOn(api)).toBe(200)
      expect(await statusOn(second)).toBe(200)
      expect(await statusOn(second)).toBe(200)

      const revoked = await api
        .as(api.adminToken)
        .mutate("admin.apiKeys.revoke", { id: owner.keyId })
      expect(revoked.status).toBe(200)
      expect(await statusOn(api)).toBe(401)
      await expect.poll(() => statusOn(second), { timeout: 1_000, interval: 20 }).toBe(401)
      const rest = await second.rest("GET", "/v1/accounts", { auth: token })
      expect(rest.status).toBe(401)
    } finally {
      await second.close()
    }
  })
})

describe("isolation", () => {
  it("another user's token sees nothing of the first user", async () => {
    const stranger = await api.newUser()
    const { token } = await mint({ scopes: ["read", "write"] }, stranger.key)
    const browser = as(token)
    expect(ok(await browser.query("accounts.list", {})).items).toEqual([])
    expect(ok(await browser.query("transactions.list", {})).items).toEqual([])
    expect(ok(await browser.query("transactions.changes", {})).items).toEqual([])
    for (const [path, input] of [
      ["accounts.get", { id: mine.id }],
      ["transactions.get", { id: onMine.id }],
      ["transfers.get", { id: inside.id }],
    ] as const) {
      expect((await browser.query(path, input)).status).toBe(404)
    }
    const write = await browser.mutate("transactions.create", {
      accountId: mine.id,
      direction: "credit",
      amount: 1,
      currency: "EUR",
    })
    expect(write.status).toBe(404)
    expect((await browser.rest("GET", `/v1/accounts/${mine.id}`)).status).toBe(404)
  })
})

describe("the backend-for-frontend snippets of docs/auth.md, run as written", () => {
  it("the server route mints a limited token; the browser's client fetches it and lists only those accounts", async () => {
    const server = readmeSnippet("client-token-server")
    expect(server).toContain("process.env.TXN_API_KEY")
    const route =
      `const requireSignedInUser = async (_request: Request) => ({ accountIds: ${JSON.stringify([mine.id])} })\n${server}`
        .replace("process.env.TXN_URL!", JSON.stringify(api.url))
        .replace("process.env.TXN_API_KEY", JSON.stringify(api.key))
    await asModule(route, async ({ GET }) => {
      const handler = GET as (request: Request) => Promise<Response>
      // Your server, answering the browser's /api/txn-token with the route.
      const bff = createServer(async (_request, response) => {
        const answer = await handler(new Request("http://app.example/api/txn-token"))
        response.writeHead(answer.status, Object.fromEntries(answer.headers))
        response.end(await answer.text())
      })
      bff.listen(0, "127.0.0.1")
      await once(bff, "listening")
      try {
        const bffUrl = `http://127.0.0.1:${(bff.address() as AddressInfo).port}`
        const browser = readmeSnippet("client-token-browser")
        expect(browser).toContain("token: () =>")
        const page = `${browser}\nexport { accounts }\n`
          .replace('"https://txn.example.com"', JSON.stringify(api.url))
          .replace('"/api/txn-token"', JSON.stringify(`${bffUrl}/api/txn-token`))
        await asModule(page, async ({ accounts }) => {
          const items = (accounts as { items: Array<{ id: string }> }).items
          expect(items.map((account) => account.id)).toEqual([mine.id])
        })
      } finally {
        bff.close()
      }
    })
  })
})

describe("the token's secret", () => {
  it("appears in no log line and in no answer but its mint", () => {
    expect(minted.length).toBeGreaterThan(10)
    const logs = api.logs.raw.join("\n")
    const text = JSON.stringify(answers)
    for (const token of minted) {
      expect(logs).not.toContain(token)
      expect(text).not.toContain(token)
    }
  })
})
