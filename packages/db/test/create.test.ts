import {
  type Account,
  Actor,
  type CreateTransaction,
  type Transaction,
  Transactions,
  type UserId,
} from "@txn/domain"
import { startCountingProxy, testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { accountOf, createUser, insertAccount, makeUseCases } from "./fixtures.ts"

const makeApp = (url: Redacted.Redacted<string>, maxConnections: number) =>
  makeUseCases(url, { maxConnections })

type App = ReturnType<typeof makeApp>

let app: App
let proxy: Awaited<ReturnType<typeof startCountingProxy>>
let counted: App
beforeAll(async () => {
  app = makeApp(testDatabaseUrl(), 6)
  const url = new URL(Redacted.value(testDatabaseUrl()))
  proxy = await startCountingProxy({ host: url.hostname, port: Number(url.port || 5432) })
  url.host = `127.0.0.1:${proxy.port}`
  counted = makeApp(Redacted.make(url.href), 1)
})
afterAll(async () => {
  await counted.dispose()
  await proxy.close()
  await app.dispose()
})

const asUser = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provideService(Actor, "key_create"))

const newAccount = async (fields: Partial<Account> = {}, on: App = app) => {
  const userId = await on.runPromise(createUser)
  return on.runPromise(insertAccount(accountOf(userId, fields)))
}

const create = (userId: UserId, input: CreateTransaction, on: App = app) =>
  on.runPromise(asUser(Transactions.use((t) => t.create(userId, input))))

const refusal = (userId: UserId, input: CreateTransaction) =>
  app.runPromise(asUser(Transactions.use((t) => t.create(userId, input))).pipe(Effect.flip))

const credit = (account: Account, amount: number, extra: Partial<CreateTransaction> = {}) =>
  ({
    accountId: account.id,
    direction: "credit",
    amount,
    currency: account.currency,
    ...extra,
  }) as CreateTransaction

const debit = (account: Account, amount: number, extra: Partial<CreateTransaction> = {}) =>
  ({ ...credit(account, amount, extra), direction: "debit" }) as CreateTransaction

/** What the database holds for the account and the user's key. */
const stored = (account: Account, key: string) =>
  app.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [balance] = yield* sql<{ readonly posted: string }>`
        select posted_balance::text as posted from accounts where id = ${account.id}`
      const rows = yield* sql<{ readonly id: string }>`
        select id from transactions where account_id = ${account.id}`
      const events = yield* sql<{ readonly id: string }>`
        select e.transaction_id as id from transaction_events e
          join transactions t on t.id = e.transaction_id where t.account_id = ${account.id}`
      const entries = yield* sql<{ readonly id: string }>`
        select transaction_id as id from ledger_entries where account_id = ${account.id}`
      const keys = yield* sql<{ readonly response: Transaction | null }>`
        select response from idempotency_keys where user_id = ${account.userId} and key = ${key}`
      return {
        posted: Number(balance?.posted),
        transactions: rows.length,
        events: events.length,
        entries: entries.length,
        key: keys[0],
      }
    }),
  )

describe("a single create", () => {
  it("is one statement on the wire, with an idempotency key or without", async () => {
    const account = await newAccount({}, counted)
    // The first of each statement prepares it; what every later create costs is counted.
    await create(account.userId, credit(account, 100, { idempotencyKey: "warm-up" }), counted)
    await create(account.userId, credit(account, 100), counted)

    const before = proxy.statements()
    const created = await create(
      account.userId,
      credit(account, 250, { idempotencyKey: "counted" }),
      counted,
    )
    expect(proxy.statements() - before).toBe(1)
    expect(created).toMatchObject({ amount: 250, status: "posted" })

    const unkeyed = proxy.statements()
    await create(account.userId, debit(account, 50), counted)
    expect(proxy.statements() - unkeyed).toBe(1)

    // Everything a create writes, written by that one statement: row, event, entry, key, balance.
    const after = await stored(account, "counted")
    expect(after).toMatchObject({ posted: 400, transactions: 4, events: 4, entries: 4 })
    expect(after.key?.response).toEqual(created)
  })

  it("answers the same key and body again with the first answer, marked replayed, written once", async () => {
    const account = await newAccount()
    const input = credit(account, 700, { idempotencyKey: "replay", description: "Salary" })
    const first = await create(account.userId, input)
    const again = await create(account.userId, input)
    expect(first.replayed).toBeUndefined()
    expect(again).toEqual({ ...first, replayed: true })
    expect(await stored(account, "replay")).toMatchObject({ posted: 700, transactions: 1 })
  })

  it("refuses the same key with another body as IdempotencyKeyReused, writing nothing", async () => {
    const account = await newAccount()
    await create(account.userId, credit(account, 700, { idempotencyKey: "reused" }))
    const error = await refusal(account.userId, credit(account, 701, { idempotencyKey: "reused" }))
    expect(error).toMatchObject({ _tag: "IdempotencyKeyReused", idempotencyKey: "reused" })
    expect(await stored(account, "reused")).toMatchObject({ posted: 700, transactions: 1 })
  })

  it("executes concurrent creates with one key once; the others replay its answer", async () => {
    const account = await newAccount()
    const input = credit(account, 300, { idempotencyKey: "concurrent" })
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => create(account.userId, input)),
    )
    const fresh = answers.filter((answer) => answer.replayed !== true)
    expect(fresh).toHaveLength(1)
    for (const answer of answers) expect(answer.id).toBe(fresh[0]!.id)
    expect(await stored(account, "concurrent")).toMatchObject({
      posted: 300,
      transactions: 1,
      events: 1,
      entries: 1,
    })
  })

  it("refuses a debit beyond the funds with InsufficientFunds and keeps neither row nor key", async () => {
    const account = await newAccount()
    await create(account.userId, credit(account, 1_000))
    const input = debit(account, 1_200, { idempotencyKey: "short" })
    const error = await refusal(account.userId, input)
    expect(error).toMatchObject({
      _tag: "InsufficientFunds",
      message: `Account ${account.id} has 1000 available; 1200 requested`,
      accountId: account.id,
      available: 1_000,
      requested: 1_200,
    })
    expect(await stored(account, "short")).toMatchObject({
      posted: 1_000,
      transactions: 1,
      events: 1,
      entries: 1,
      key: undefined,
    })
    // The key was rolled back with the refusal: once the funds are there, it records.
    await create(account.userId, credit(account, 500))
    const recorded = await create(account.userId, input)
    expect(recorded.replayed).toBeUndefined()
    expect(await stored(account, "short")).toMatchObject({ posted: 300, transactions: 3 })
  })

  it("refuses a credit past the most an account can hold with BalanceLimitExceeded, keeping no key", async () => {
    const account = await newAccount()
    await create(account.userId, credit(account, Number.MAX_SAFE_INTEGER - 5))
    const error = await refusal(account.userId, credit(account, 10, { idempotencyKey: "limit" }))
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: account.id,
      figure: "posted+pendingCredits",
      balance: Number.MAX_SAFE_INTEGER - 5,
      requested: 10,
      limit: Number.MAX_SAFE_INTEGER,
    })
    expect(await stored(account, "limit")).toMatchObject({
      posted: Number.MAX_SAFE_INTEGER - 5,
      transactions: 1,
      key: undefined,
    })
  })

  it("answers NotFound for an account the user does not have, keeping no key", async () => {
    const account = await newAccount()
    const stranger = await app.runPromise(createUser)
    const error = await refusal(stranger, credit(account, 10, { idempotencyKey: "not-mine" }))
    expect(error).toMatchObject({ _tag: "NotFound", resource: "account", id: account.id })
    const keys = await app.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql`select 1 from idempotency_keys where user_id = ${stranger}`,
      ),
    )
    expect(keys).toHaveLength(0)
    expect(await stored(account, "not-mine")).toMatchObject({ posted: 0, transactions: 0 })
  })

  it("answers CurrencyMismatch for an account in another currency, keeping no key", async () => {
    const account = await newAccount()
    const error = await refusal(account.userId, {
      ...credit(account, 10, { idempotencyKey: "usd" }),
      currency: "USD",
    } as CreateTransaction)
    expect(error).toMatchObject({
      _tag: "CurrencyMismatch",
      accountId: account.id,
      accountCurrency: "EUR",
      currency: "USD",
    })
    expect(await stored(account, "usd")).toMatchObject({
      posted: 0,
      transactions: 0,
      key: undefined,
    })
  })

  it("lets an expired key start over: the create is recorded, not replayed or refused", async () => {
    const account = await newAccount()
    await app.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql`
          insert into idempotency_keys (user_id, key, operation, request_hash, response, created_at, expires_at)
          values (${account.userId}, 'old', 'transactions.create', ${"a".repeat(64)},
                  '{"id": "txn_old"}'::jsonb, now() - interval '8 days', now() - interval '1 day')`,
      ),
    )
    const created = await create(account.userId, credit(account, 42, { idempotencyKey: "old" }))
    expect(created.replayed).toBeUndefined()
    const after = await stored(account, "old")
    expect(after).toMatchObject({ posted: 42, transactions: 1 })
    expect(after.key?.response).toEqual(created)
    expect(await create(account.userId, credit(account, 42, { idempotencyKey: "old" }))).toEqual({
      ...created,
      replayed: true,
    })
  })
})
