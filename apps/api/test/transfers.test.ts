import { makeId } from "@txn/domain"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  createAccount,
  fund,
  type Input,
  type Json,
  ok,
  startTestApi,
  type TestApi,
} from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

const transfer = (
  fromAccountId: string,
  toAccountId: string,
  amount: number,
  extra: Partial<Input<"transfers.create">> = {},
) =>
  api.mutate("transfers.create", {
    fromAccountId,
    toAccountId,
    amount,
    currency: "USD",
    ...extra,
  })

const balance = async (id: string) => ok(await api.query("accounts.balance", { id }))

const listed = async (accountId: string) =>
  ok(await api.query("transactions.list", { accountId, limit: 200 })).items

/** What the user sees of the accounts: balances and transaction lists. */
const snapshot = async (...ids: Array<string>) =>
  Promise.all(ids.map(async (id) => ({ balance: await balance(id), listed: await listed(id) })))

describe("transfers over HTTP", () => {
  it("moves money: exact balances, both legs readable and linked, the transfer readable", async () => {
    const from = await createAccount(api)
    const to = await createAccount(api)
    await fund(api, from.id, 1000)
    const created = ok(await transfer(from.id, to.id, 350, { description: "Savings" }))
    expect(created).toMatchObject({
      userId: api.userId,
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: 350,
      currency: "USD",
      description: "Savings",
    })
    expect(created.id).toMatch(/^trf_[0-9a-z]{26}$/)
    expect(await balance(from.id)).toMatchObject({ posted: 650, pending: 650, available: 650 })
    expect(await balance(to.id)).toMatchObject({ posted: 350, pending: 350, available: 350 })

    const debit = ok(await api.query("transactions.get", { id: created.debitTransactionId }))
    const credit = ok(await api.query("transactions.get", { id: created.creditTransactionId }))
    for (const [leg, accountId, direction] of [
      [debit, from.id, "debit"],
      [credit, to.id, "credit"],
    ]) {
      expect(leg).toMatchObject({
        accountId,
        direction,
        amount: 350,
        currency: "USD",
        status: "posted",
        category: "transfer",
        reference: created.id,
        transferId: created.id,
        description: "Savings",
      })
    }
    expect((await listed(from.id)).map((t: Json) => t.id)).toContain(debit.id)
    expect((await listed(to.id)).map((t: Json) => t.id)).toEqual([credit.id])
    expect(ok(await api.query("transfers.get", { id: created.id }))).toEqual(created)
  })

  it("transfers.get answers 404 for a transfer that never existed", async () => {
    const response = await api.query("transfers.get", { id: makeId("trf") })
    expect(response.status).toBe(404)
    expect(response.body.error.data.tag).toBe("NotFound")
  })

  it("refuses a transfer from an account to itself with 400 naming toAccountId", async () => {
    const account = await createAccount(api)
    await fund(api, account.id, 1000)
    const before = await snapshot(account.id)
    const response = await transfer(account.id, account.id, 100)
    expect(response.status).toBe(400)
    expect(response.body.error.data.tag).toBe("ValidationError")
    expect(
      response.body.error.data.issues.map((issue: { path: Array<string> }) => issue.path),
    ).toContainEqual(["toAccountId"])
    expect(await snapshot(account.id)).toEqual(before)
  })

  it.each(["source", "target"])(
    "refuses with 422 CurrencyMismatch when the %s account holds another currency, recording nothing",
    async (side) => {
      const usd = await createAccount(api)
      const eur = await createAccount(api, { currency: "EUR" })
      await fund(api, usd.id, 1000)
      await fund(api, eur.id, 1000, "EUR")
      const before = await snapshot(usd.id, eur.id)
      const [from, to] = side === "source" ? [eur, usd] : [usd, eur]
      const response = await transfer(from.id, to.id, 100)
      expect(response.status).toBe(422)
      expect(response.body.error.data).toMatchObject({ tag: "CurrencyMismatch" })
      expect(await snapshot(usd.id, eur.id)).toEqual(before)
    },
  )

  it.each(["source", "target"])(
    "answers 404 NotFound for an unknown %s account, recording nothing",
    async (side) => {
      const known = await createAccount(api)
      await fund(api, known.id, 1000)
      const before = await snapshot(known.id)
      const unknown = makeId("acc")
      const response =
        side === "source"
          ? await transfer(unknown, known.id, 100)
          : await transfer(known.id, unknown, 100)
      expect(response.status).toBe(404)
      expect(response.body.error.data.tag).toBe("NotFound")
      expect(response.body.error.message).toContain(unknown)
      expect(await snapshot(known.id)).toEqual(before)
    },
  )

  it("refuses a transfer taking the target past 2^53-1 with 422 BalanceLimitExceeded, recording nothing", async () => {
    const from = await createAccount(api)
    const to = await createAccount(api)
    await fund(api, from.id, 500)
    await fund(api, to.id, Number.MAX_SAFE_INTEGER - 100)
    const before = await snapshot(from.id, to.id)
    const response = await transfer(from.id, to.id, 101)
    expect(response.status).toBe(422)
    expect(response.body.error.data).toMatchObject({
      tag: "BalanceLimitExceeded",
      details: {
        accountId: to.id,
        figure: "posted+pendingCredits",
        balance: Number.MAX_SAFE_INTEGER - 100,
        requested: 101,
        limit: Number.MAX_SAFE_INTEGER,
      },
    })
    expect(await snapshot(from.id, to.id)).toEqual(before)
    ok(await transfer(from.id, to.id, 100))
    expect(await balance(from.id)).toMatchObject({ posted: 400, pending: 400, available: 400 })
    expect(await balance(to.id)).toMatchObject({
      posted: Number.MAX_SAFE_INTEGER,
      pending: Number.MAX_SAFE_INTEGER,
      available: Number.MAX_SAFE_INTEGER,
    })
  })

  it("refuses with 422 InsufficientFunds and records nothing at all (atomic)", async () => {
    const from = await createAccount(api)
    const to = await createAccount(api)
    await fund(api, from.id, 500)
    // A hold reduces what is available below what is posted.
    ok(
      await api.mutate("transactions.create", {
        accountId: from.id,
        direction: "debit",
        amount: 100,
        currency: "USD",
        status: "pending",
      }),
    )
    const before = await snapshot(from.id, to.id)
    expect(before[0]!.balance).toMatchObject({ posted: 500, available: 400 })
    const response = await transfer(from.id, to.id, 401)
    expect(response.status).toBe(422)
    expect(response.body.error.data).toMatchObject({
      tag: "InsufficientFunds",
      details: { accountId: from.id, available: 400, requested: 401 },
    })
    expect(await snapshot(from.id, to.id)).toEqual(before)
    expect(await listed(to.id)).toEqual([])
    // Exactly what is available passes.
    ok(await transfer(from.id, to.id, 400))
    expect(await balance(from.id)).toMatchObject({ posted: 100, available: 0 })
    expect(await balance(to.id)).toMatchObject({ posted: 400, available: 400 })
  })

  it("lets a source that allows negative balances go negative", async () => {
    const from = await createAccount(api, { allowNegative: true })
    const to = await createAccount(api)
    ok(await transfer(from.id, to.id, 250))
    expect(await balance(from.id)).toMatchObject({ posted: -250, available: -250 })
    expect(await balance(to.id)).toMatchObject({ posted: 250, available: 250 })
  })

  it("20 concurrent transfers of 100 from 1000: exactly 10 pass, money is conserved", async () => {
    const from = await createAccount(api)
    const to = await createAccount(api)
    await fund(api, from.id, 1000)
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => transfer(from.id, to.id, 100)),
    )
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(10)
    expect(statuses.filter((s) => s === 422)).toHaveLength(10)
    for (const r of responses.filter((r) => r.status === 422)) {
      expect(r.body.error.data.tag).toBe("InsufficientFunds")
    }
    const [a, b] = [await balance(from.id), await balance(to.id)]
    expect(a).toMatchObject({ posted: 0, available: 0 })
    expect(b).toMatchObject({ posted: 1000, available: 1000 })
    expect(a.posted + b.posted).toBe(1000)
    expect(await listed(to.id)).toHaveLength(10)
    expect(await listed(from.id)).toHaveLength(11)
  })

  it("opposite concurrent transfers between two accounts never deadlock and conserve money", async () => {
    const x = await createAccount(api)
    const y = await createAccount(api)
    await fund(api, x.id, 500)
    await fund(api, y.id, 500)
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? transfer(x.id, y.id, 30 + (i % 7)) : transfer(y.id, x.id, 25 + (i % 5)),
      ),
    )
    for (const r of responses) {
      expect([200, 422]).toContain(r.status)
      if (r.status === 422) expect(r.body.error.data.tag).toBe("InsufficientFunds")
    }
    expect(responses.some((r) => r.status === 200)).toBe(true)
    const [bx, by] = [await balance(x.id), await balance(y.id)]
    expect(bx.posted + by.posted).toBe(1000)
    expect(bx.posted).toBeGreaterThanOrEqual(0)
    expect(by.posted).toBeGreaterThanOrEqual(0)
    // Every successful transfer left exactly its two legs.
    const passed = responses.filter((r) => r.status === 200).length
    expect((await listed(x.id)).length + (await listed(y.id)).length).toBe(2 + 2 * passed)
  })
})
