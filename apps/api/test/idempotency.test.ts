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

let counter = 0
const newKey = () => `key-${Date.now()}-${++counter}`

const fundedAccount = async (amount = 10_000) => {
  const account = await createAccount(api, { name: "Idempotent", currency: "EUR" })
  if (amount > 0) await fund(api, account.id, amount, "EUR")
  return account
}

const listIds = async (accountId: string) =>
  ok(await api.query("transactions.list", { accountId, limit: 200 })).items.map((t: Json) => t.id)

describe("idempotency keys on creates", () => {
  it("answers a retry with the same key and body with the first result, marked as a replay", async () => {
    const account = await fundedAccount()
    const input: Input<"transactions.create"> = {
      idempotencyKey: newKey(),
      accountId: account.id,
      direction: "debit",
      amount: 1_000,
      currency: "EUR",
      description: "Rent",
    }
    const first = ok(await api.mutate("transactions.create", input))
    expect(first.replayed).toBeUndefined()
    const again = ok(await api.mutate("transactions.create", input))
    expect(again).toEqual({ ...first, replayed: true })
    expect(await listIds(account.id)).toHaveLength(2) // the funding credit and one debit
    const balance = ok(await api.query("accounts.balance", { id: account.id }))
    expect(balance.posted).toBe(9_000)
  })

  it("refuses the same key with a different body, saying so, and records nothing", async () => {
    const account = await fundedAccount()
    const key = newKey()
    const base = {
      idempotencyKey: key,
      accountId: account.id,
      direction: "debit",
      currency: "EUR",
    } as const
    ok(await api.mutate("transactions.create", { ...base, amount: 100 }))
    const other = await api.mutate("transactions.create", { ...base, amount: 200 })
    expect(other.status).toBe(422)
    expect(other.body.error.data).toMatchObject({
      tag: "IdempotencyKeyReused",
      details: { idempotencyKey: key },
    })
    expect(await listIds(account.id)).toHaveLength(2)
  })

  it("executes exactly once when requests with one key arrive at the same time", async () => {
    const account = await fundedAccount()
    const input: Input<"transactions.create"> = {
      idempotencyKey: newKey(),
      accountId: account.id,
      direction: "debit",
      amount: 700,
      currency: "EUR",
    }
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => api.mutate("transactions.create", input)),
    )
    const bodies = answers.map(ok)
    const ids = new Set(bodies.map((b: Json) => b.id))
    expect(ids.size).toBe(1)
    expect(bodies.filter((b: Json) => b.replayed === true)).toHaveLength(9)
    expect(await listIds(account.id)).toHaveLength(2)
    expect(ok(await api.query("accounts.balance", { id: account.id })).posted).toBe(9_300)
  })

  it("keeps no key for a create that failed, so a retry after fixing the cause executes", async () => {
    const account = await fundedAccount(0)
    const input: Input<"transactions.create"> = {
      idempotencyKey: newKey(),
      accountId: account.id,
      direction: "debit",
      amount: 500,
      currency: "EUR",
    }
    const refused = await api.mutate("transactions.create", input)
    expect(refused.status).toBe(422)
    expect(refused.body.error.data.tag).toBe("InsufficientFunds")
    ok(
      await api.mutate("transactions.create", {
        accountId: account.id,
        direction: "credit",
        amount: 500,
        currency: "EUR",
      }),
    )
    const retried = ok(await api.mutate("transactions.create", input))
    expect(retried.replayed).toBeUndefined()
    expect(ok(await api.query("accounts.balance", { id: account.id })).posted).toBe(0)
  })

  it("scopes keys to the user: another user's same key creates their own", async () => {
    const other = await api.newUser()
    const key = newKey()
    const mine = ok(
      await api.mutate("accounts.create", { idempotencyKey: key, name: "Mine", currency: "EUR" }),
    )
    const theirs = await api
      .as(other.key)
      .mutate("accounts.create", { idempotencyKey: key, name: "Mine", currency: "EUR" })
    expect(theirs.status).toBe(200)
    expect(theirs.body.result.data.id).not.toBe(mine.id)
    expect(theirs.body.result.data.replayed).toBeUndefined()
  })

  it("guards accounts.create and transfers.create too", async () => {
    const key = newKey()
    const account = ok(
      await api.mutate("accounts.create", { idempotencyKey: key, name: "Once", currency: "EUR" }),
    )
    const replay = ok(
      await api.mutate("accounts.create", { idempotencyKey: key, name: "Once", currency: "EUR" }),
    )
    expect(replay).toEqual({ ...account, replayed: true })

    const from = await fundedAccount()
    const to = await fundedAccount(0)
    const transfer = {
      idempotencyKey: newKey(),
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: 2_500,
      currency: "EUR",
    }
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api.mutate("transfers.create", transfer)),
    )
    expect(new Set(answers.map((a) => ok(a).id)).size).toBe(1)
    expect(ok(await api.query("accounts.balance", { id: to.id })).posted).toBe(2_500)
    expect(ok(await api.query("accounts.balance", { id: from.id })).posted).toBe(7_500)
  })

  it("rejects a key that is empty, too long or has spaces, naming the field", async () => {
    for (const idempotencyKey of ["", "k".repeat(256), "with space"]) {
      const response = await api.mutate("accounts.create", {
        idempotencyKey,
        name: "Bad key",
        currency: "EUR",
      })
      expect(response.status).toBe(400)
      expect(response.body.error.data.issues.map((i: Json) => i.path)).toEqual([["idempotencyKey"]])
    }
  })
})
