import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

describe("accounts.update", () => {
  it("changes the name, metadata and allowNegative, never the currency", async () => {
    const account = ok(await api.mutate("accounts.create", { name: "Old", currency: "EUR" }))
    const updated = ok(
      await api.mutate("accounts.update", {
        id: account.id,
        name: "New",
        metadata: { team: "ops" },
        allowNegative: true,
      }),
    )
    expect(updated).toMatchObject({
      id: account.id,
      name: "New",
      currency: "EUR",
      metadata: { team: "ops" },
      allowNegative: true,
    })
    expect(ok(await api.query("accounts.get", { id: account.id }))).toEqual(updated)
    const currency = await api.call("accounts.update", { id: account.id, currency: "USD" })
    expect(currency.status).toBe(400)
    expect(currency.body.error.data.issues.map((i: Json) => i.path)).toEqual([["currency"]])
  })

  it("refuses to forbid negative balances while the account is below zero", async () => {
    const account = ok(
      await api.mutate("accounts.create", {
        name: "Overdrawn",
        currency: "EUR",
        allowNegative: true,
      }),
    )
    ok(
      await api.mutate("transactions.create", {
        accountId: account.id,
        direction: "debit",
        amount: 300,
        currency: "EUR",
      }),
    )
    const refused = await api.mutate("accounts.update", { id: account.id, allowNegative: false })
    expect(refused.status).toBe(422)
    expect(refused.body.error.data).toMatchObject({
      tag: "InsufficientFunds",
      details: { accountId: account.id, available: -300, requested: 0 },
    })
    expect(ok(await api.query("accounts.get", { id: account.id })).allowNegative).toBe(true)
    ok(
      await api.mutate("transactions.create", {
        accountId: account.id,
        direction: "credit",
        amount: 300,
        currency: "EUR",
      }),
    )
    expect(
      ok(await api.mutate("accounts.update", { id: account.id, allowNegative: false }))
        .allowNegative,
    ).toBe(false)
  })

  it("answers an update with nothing to change with 400, and an unknown id with 404", async () => {
    const account = ok(await api.mutate("accounts.create", { name: "Same", currency: "EUR" }))
    expect((await api.mutate("accounts.update", { id: account.id })).status).toBe(400)
    const missing = await api.mutate("accounts.update", {
      id: `acc_${"0".repeat(26)}`,
      name: "Nobody",
    })
    expect(missing.status).toBe(404)
  })
})
