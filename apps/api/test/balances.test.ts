import { type Account, makeId, type Transaction, TransactionRepository } from "@txn/domain"
import { transactionOf } from "@txn/testing"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createAccount, type Input, type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

type TransactionFields = Partial<Input<"transactions.create">>

const create = async (accountId: string, extra: TransactionFields) =>
  api.mutate("transactions.create", {
    accountId,
    direction: "debit",
    amount: 100,
    currency: "USD",
    description: "Balance test",
    ...extra,
  })

const credit = async (accountId: string, amount: number, extra: TransactionFields = {}) =>
  ok(await create(accountId, { direction: "credit", amount, ...extra }))
const debit = async (accountId: string, amount: number, extra: TransactionFields = {}) =>
  ok(await create(accountId, { direction: "debit", amount, ...extra }))

const balance = async (id: string, asOf?: string) =>
  ok(await api.query("accounts.balance", asOf === undefined ? { id } : { id, asOf }))

const expectBalance = async (
  id: string,
  expected: { posted: number; pending: number; available: number },
) => {
  expect(await balance(id)).toEqual({
    accountId: id,
    currency: "USD",
    ...expected,
    asOf: null,
  })
}

const listIds = async (accountId: string) =>
  ok(await api.query("transactions.list", { accountId, limit: 200 })).items.map(
    (t: { id: string }) => t.id,
  )

const expectInsufficient = (
  response: { status: number; body: Json },
  details: { accountId: string; available: number; requested: number },
) => {
  expect(response.status).toBe(422)
  expect(response.body.error.data).toMatchObject({ tag: "InsufficientFunds", details })
}

describe("accounts.balance over HTTP", () => {
  it("starts at zero and follows every kind of operation exactly", async () => {
    const account = await createAccount(api)
    await expectBalance(account.id, { posted: 0, pending: 0, available: 0 })

    await credit(account.id, 1000)
    await expectBalance(account.id, { posted: 1000, pending: 1000, available: 1000 })

    await debit(account.id, 300)
    await expectBalance(account.id, { posted: 700, pending: 700, available: 700 })

    const hold = await debit(account.id, 200, { status: "pending" })
    await expectBalance(account.id, { posted: 700, pending: 500, available: 500 })

    const pendingCredit = await credit(account.id, 50, { status: "pending" })
    // A pending credit shows in pending but is not yet available.
    await expectBalance(account.id, { posted: 700, pending: 550, available: 500 })

    ok(await api.mutate("transactions.post", { id: hold.id, expectedVersion: hold.version }))
    await expectBalance(account.id, { posted: 500, pending: 550, available: 500 })

    ok(
      await api.mutate("transactions.void", {
        id: pendingCredit.id,
        expectedVersion: pendingCredit.version,
      }),
    )
    await expectBalance(account.id, { posted: 500, pending: 500, available: 500 })

    const hold2 = await debit(account.id, 120, { status: "pending" })
    await expectBalance(account.id, { posted: 500, pending: 380, available: 380 })
    ok(await api.mutate("transactions.void", { id: hold2.id, expectedVersion: hold2.version }))
    await expectBalance(account.id, { posted: 500, pending: 500, available: 500 })

    const spent = await debit(account.id, 80)
    await expectBalance(account.id, { posted: 420, pending: 420, available: 420 })
    // Reversing a debit gives the money back.
    ok(await api.mutate("transactions.reverse", { id: spent.id, expectedVersion: spent.version }))
    await expectBalance(account.id, { posted: 500, pending: 500, available: 500 })

    // Reversing a credit is a debit.
    const gift = await credit(account.id, 40)
    await expectBalance(account.id, { posted: 540, pending: 540, available: 540 })
    ok(await api.mutate("transactions.reverse", { id: gift.id, expectedVersion: gift.version }))
    await expectBalance(account.id, { posted: 500, pending: 500, available: 500 })
  })

  it("refuses a posted debit beyond available with 422 InsufficientFunds and records nothing", async () => {
    const account = await createAccount(api)
    await credit(account.id, 500)
    await debit(account.id, 100, { status: "pending" })
    const before = { ids: await listIds(account.id), balance: await balance(account.id) }

    expectInsufficient(await create(account.id, { amount: 401 }), {
      accountId: account.id,
      available: 400,
      requested: 401,
    })
    expect({ ids: await listIds(account.id), balance: await balance(account.id) }).toEqual(before)

    // Exactly the available amount is fine.
    await debit(account.id, 400)
    await expectBalance(account.id, { posted: 100, pending: 0, available: 0 })
  })

  it("refuses a hold beyond available with 422 InsufficientFunds and records nothing", async () => {
    const account = await createAccount(api)
    await credit(account.id, 300)
    const before = { ids: await listIds(account.id), balance: await balance(account.id) }

    expectInsufficient(await create(account.id, { amount: 301, status: "pending" }), {
      accountId: account.id,
      available: 300,
      requested: 301,
    })
    expect({ ids: await listIds(account.id), balance: await balance(account.id) }).toEqual(before)
  })

  it("refuses to reverse a credit that has already been spent", async () => {
    const account = await createAccount(api)
    const salary = await credit(account.id, 500)
    await debit(account.id, 400)
    const before = { ids: await listIds(account.id), balance: await balance(account.id) }

    expectInsufficient(
      await api.mutate("transactions.reverse", { id: salary.id, expectedVersion: salary.version }),
      { accountId: account.id, available: 100, requested: 500 },
    )
    expect({ ids: await listIds(account.id), balance: await balance(account.id) }).toEqual(before)
    expect(ok(await api.query("transactions.get", { id: salary.id })).status).toBe("posted")
  })

  it("lets an allowNegative account go below zero", async () => {
    const account = await createAccount(api, { allowNegative: true })
    expect(account.allowNegative).toBe(true)
    await debit(account.id, 250)
    await expectBalance(account.id, { posted: -250, pending: -250, available: -250 })
    await debit(account.id, 50, { status: "pending" })
    await expectBalance(account.id, { posted: -250, pending: -300, available: -300 })
  })

  it("answers the balance as of a moment before and after a posting", async () => {
    const account = await createAccount(api)
    await credit(account.id, 1000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const between = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 20))
    await debit(account.id, 300)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const after = new Date().toISOString()

    expect(await balance(account.id, between)).toEqual({
      accountId: account.id,
      currency: "USD",
      posted: 1000,
      pending: 1000,
      available: 1000,
      asOf: between,
    })
    expect(await balance(account.id, after)).toEqual({
      accountId: account.id,
      currency: "USD",
      posted: 700,
      pending: 700,
      available: 700,
      asOf: after,
    })
    const epoch = "2000-01-01T00:00:00.000Z"
    expect(await balance(account.id, epoch)).toMatchObject({ posted: 0, available: 0, asOf: epoch })
  })

  it("answers 404 NotFound for an unknown account, with or without asOf", async () => {
    for (const extra of [{}, { asOf: new Date().toISOString() }]) {
      const response = await api.query("accounts.balance", { id: makeId("acc"), ...extra })
      expect(response.status).toBe(404)
      expect(response.body.error.data.tag).toBe("NotFound")
    }
  })

  it("20 concurrent debits of 100 against 1000: exactly 10 succeed, the rest 422, available 0", async () => {
    const account = await createAccount(api)
    await credit(account.id, 1000)
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        create(account.id, { amount: 100, description: `Race ${i}` }),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(10)
    expect(statuses.filter((s) => s === 422)).toHaveLength(10)
    for (const refused of responses.filter((r) => r.status === 422)) {
      expect(refused.body.error.data).toMatchObject({
        tag: "InsufficientFunds",
        details: { accountId: account.id, requested: 100 },
      })
    }
    await expectBalance(account.id, { posted: 0, pending: 0, available: 0 })
    expect(await listIds(account.id)).toHaveLength(11)
  })
})

describe("balance limits over HTTP", () => {
  const limit = Number.MAX_SAFE_INTEGER

  /** The figures PostgreSQL computes from the stored columns, as text, and what was written. */
  const stored = async (id: string) => {
    const [row] = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<Record<string, string>>`
          select posted_balance::text as posted,
                 (posted_balance + pending_credits - pending_debits)::text as pending,
                 (posted_balance - pending_debits)::text as available,
                 (select count(*)::text from transactions where account_id = a.id) as transactions,
                 (select count(*)::text from transaction_events where user_id = a.user_id) as events,
                 (select count(*)::text from outbox where user_id = a.user_id) as outbox
            from accounts a where id = ${id}`,
      ),
    )
    return row!
  }

  /** The API's figures, which must be the database's exactly. */
  const shown = async (id: string) => {
    const b = await balance(id)
    return { posted: String(b.posted), pending: String(b.pending), available: String(b.available) }
  }

  const expectLimit = (
    response: { status: number; body: Json },
    details: {
      accountId: string
      figure: string
      balance: number
      requested: number
      limit: number
    },
  ) => {
    expect(response.status).toBe(422)
    expect(response.body.error.data).toMatchObject({ tag: "BalanceLimitExceeded", details })
    expect(response.body.error.message).toContain(details.accountId)
  }

  it.each(["posted", "pending"] as const)(
    "refuses a %s credit past 2^53-1 with 422 BalanceLimitExceeded and records nothing",
    async (status) => {
      const account = await createAccount(api)
      await credit(account.id, limit - 4)
      const before = { ids: await listIds(account.id), stored: await stored(account.id) }
      expectLimit(await create(account.id, { direction: "credit", amount: 5, status }), {
        accountId: account.id,
        figure: "posted+pendingCredits",
        balance: limit - 4,
        requested: 5,
        limit,
      })
      expect({ ids: await listIds(account.id), stored: await stored(account.id) }).toEqual(before)
      await credit(account.id, 4, { status })
      const { posted, pending, available } = await stored(account.id)
      expect(await shown(account.id)).toEqual({ posted, pending, available })
      expect(pending).toBe(String(limit))
    },
  )

  it("20 concurrent credits of 100 with room for 1000: exactly 10 succeed, the rest 422", async () => {
    const account = await createAccount(api)
    await credit(account.id, limit - 1000)
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        create(account.id, { direction: "credit", amount: 100, description: `Race ${i}` }),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(10)
    expect(statuses.filter((s) => s === 422)).toHaveLength(10)
    for (const refused of responses.filter((r) => r.status === 422)) {
      expect(refused.body.error.data).toMatchObject({
        tag: "BalanceLimitExceeded",
        details: { accountId: account.id, balance: limit, requested: 100, limit },
      })
    }
    await expectBalance(account.id, { posted: limit, pending: limit, available: limit })
    expect(await listIds(account.id)).toHaveLength(11)
  })

  it("refuses a hold taking available below -(2^53-1) on an account that may go negative", async () => {
    const account = await createAccount(api, { allowNegative: true })
    await debit(account.id, limit - 4)
    await debit(account.id, 4, { status: "pending" })
    const before = { ids: await listIds(account.id), stored: await stored(account.id) }
    expectLimit(await create(account.id, { amount: 1, status: "pending" }), {
      accountId: account.id,
      figure: "available",
      balance: -limit,
      requested: 1,
      limit: -limit,
    })
    expect({ ids: await listIds(account.id), stored: await stored(account.id) }).toEqual(before)
    expect(await shown(account.id)).toEqual({
      posted: String(-(limit - 4)),
      pending: String(-limit),
      available: String(-limit),
    })
  })

  it("refuses to reverse a debit whose money back would pass 2^53-1, changing nothing", async () => {
    const account = await createAccount(api)
    await credit(account.id, limit - 10)
    const spent = await debit(account.id, 5)
    await credit(account.id, 15)
    const before = { ids: await listIds(account.id), stored: await stored(account.id) }
    expectLimit(
      await api.mutate("transactions.reverse", { id: spent.id, expectedVersion: spent.version }),
      {
        accountId: account.id,
        figure: "posted+pendingCredits",
        balance: limit,
        requested: 5,
        limit,
      },
    )
    expect({ ids: await listIds(account.id), stored: await stored(account.id) }).toEqual(before)
    expect(ok(await api.query("transactions.get", { id: spent.id }))).toMatchObject({
      status: "posted",
      version: 1,
    })
  })

  it("shows PostgreSQL's figures exactly near 2^53, and posts and voids holds at the limit", async () => {
    const account = await createAccount(api)
    await credit(account.id, limit - 4)
    const incoming = await credit(account.id, 4, { status: "pending" })
    const hold = await debit(account.id, 3, { status: "pending" })
    const exact = async () => {
      const { posted, pending, available } = await stored(account.id)
      expect(await shown(account.id)).toEqual({ posted, pending, available })
      return { posted, pending, available }
    }
    expect(await exact()).toEqual({
      posted: "9007199254740987",
      pending: "9007199254740988",
      available: "9007199254740984",
    })
    // Pending credits would pass the limit once posted: refused now, not at posting.
    expect(
      (await create(account.id, { direction: "credit", amount: 10, status: "pending" })).status,
    ).toBe(422)
    ok(await api.mutate("transactions.post", { id: incoming.id, expectedVersion: 1 }))
    expect(await exact()).toEqual({
      posted: "9007199254740991",
      pending: "9007199254740988",
      available: "9007199254740988",
    })
    ok(await api.mutate("transactions.void", { id: hold.id, expectedVersion: 1 }))
    expect(await exact()).toEqual({
      posted: "9007199254740991",
      pending: "9007199254740991",
      available: "9007199254740991",
    })
  })

  it("answers the balance as of a past time exactly, or 400 naming asOf when beyond 2^53-1", async () => {
    const account = await createAccount(api)
    const at = (minute: number) => `2026-01-10T10:0${minute}:00.000Z`
    /** Written straight to the repository, to record the postings at chosen times. */
    const record = (minute: number, fields: Pick<Transaction, "direction" | "amount" | "status">) =>
      api.runtime.runPromise(
        TransactionRepository.use((r) =>
          r.insert(
            transactionOf(account as Account, {
              occurredAt: at(minute),
              createdAt: at(minute),
              updatedAt: at(minute),
              ...fields,
            }),
          ),
        ),
      )
    // Written in this order, recorded at other times (as concurrent writers' clocks allow).
    await record(1, { direction: "credit", amount: limit - 4, status: "posted" })
    await record(2, { direction: "debit", amount: 8, status: "pending" })
    await record(5, { direction: "debit", amount: 20, status: "posted" })
    await record(3, { direction: "credit", amount: 10, status: "pending" })
    await record(4, { direction: "credit", amount: 12, status: "posted" })
    // As of 10:03: posted 2^53-5, pending credits 10, pending debits 8.
    expect(await balance(account.id, at(3))).toMatchObject({
      posted: 9007199254740987,
      pending: 9007199254740989,
      available: 9007199254740979,
    })
    // As of 10:04 posted would be 2^53+7: no exact number, so no answer.
    const beyond = await api.query("accounts.balance", { id: account.id, asOf: at(4) })
    expect(beyond.status).toBe(400)
    expect(beyond.body.error.data.tag).toBe("ValidationError")
    expect(beyond.body.error.data.issues.map((i: { path: Array<string> }) => i.path)).toEqual([
      ["asOf"],
    ])
    const { posted, pending, available } = await stored(account.id)
    expect(await shown(account.id)).toEqual({ posted, pending, available })
  })
})
