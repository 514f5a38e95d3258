import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createAccount, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

/** Accounts here may go negative: these tests are about recording, not about funds. */
const newWallet = (currency = "USD", allowNegative = true) =>
  createAccount(api, { name: `Wallet ${currency}`, currency, allowNegative })

describe("accounts over HTTP", () => {
  it("creates an account with defaults and reads it back", async () => {
    const account = await newWallet("EUR", false)
    expect(account).toMatchObject({
      name: "Wallet EUR",
      currency: "EUR",
      allowNegative: false,
      metadata: {},
      userId: api.userId,
    })
    expect(account.id).toMatch(/^acc_[0-9a-z]{26}$/)
    const read = await api.query("accounts.get", { id: account.id })
    expect(read.body.result.data).toEqual(account)
  })

  it("lists accounts newest first and filters by currency", async () => {
    const jpy = await newWallet("JPY")
    const listed = await api.query("accounts.list", { currency: "JPY" })
    expect(listed.body.result.data.items.map((a: { id: string }) => a.id)).toContain(jpy.id)
    expect(
      listed.body.result.data.items.every((a: { currency: string }) => a.currency === "JPY"),
    ).toBe(true)
    const all = await api.query("accounts.list")
    expect(all.status).toBe(200)
    expect(all.body.result.data.items[0].id).toBe(jpy.id)
  })
})

describe("transactions over HTTP", () => {
  it("records a posted transaction by default, with every field returned", async () => {
    const account = await newWallet()
    const response = await api.mutate("transactions.create", {
      accountId: account.id,
      direction: "credit",
      amount: 1250,
      currency: "USD",
      description: "Salary",
      category: "income",
      counterparty: "ACME",
      reference: "INV-1",
      occurredAt: "2026-03-01T09:30:00+02:00",
      metadata: { source: "test" },
    })
    expect(response.status).toBe(200)
    expect(response.body.result.data).toMatchObject({
      accountId: account.id,
      direction: "credit",
      amount: 1250,
      currency: "USD",
      status: "posted",
      description: "Salary",
      category: "income",
      counterparty: "ACME",
      reference: "INV-1",
      occurredAt: "2026-03-01T07:30:00.000Z",
      expiresAt: null,
      metadata: { source: "test" },
      version: 1,
    })
  })

  it("stores SQL fragments, control characters and emoji verbatim", async () => {
    const account = await newWallet()
    const hostile = "'); drop table transactions; -- \u0007\u001b[31m 💸👩‍👩‍👧 \\ % _"
    const created = await api.mutate("transactions.create", {
      accountId: account.id,
      direction: "debit",
      amount: 1,
      currency: "USD",
      description: hostile,
      metadata: { [hostile.slice(0, 39)]: hostile },
    })
    const read = await api.query("transactions.get", { id: created.body.result.data.id })
    expect(read.body.result.data.description).toBe(hostile)
    expect(read.body.result.data.metadata).toEqual({ [hostile.slice(0, 39)]: hostile })
  })

  it("pages through a filtered list with a cursor, without gaps or repeats", async () => {
    const account = await newWallet()
    const ids = new Set<string>()
    for (let i = 0; i < 7; i++) {
      const created = await api.mutate("transactions.create", {
        accountId: account.id,
        direction: i % 2 === 0 ? "credit" : "debit",
        amount: 100 + i,
        currency: "USD",
        category: "groceries",
        occurredAt: "2026-04-01T12:00:00Z",
      })
      ids.add(created.body.result.data.id)
    }
    const seen: Array<string> = []
    let cursor: string | undefined
    for (;;) {
      const page = await api.query("transactions.list", {
        accountId: account.id,
        limit: 3,
        ...(cursor === undefined ? {} : { cursor }),
      })
      expect(page.status).toBe(200)
      const data = page.body.result.data
      seen.push(...data.items.map((t: { id: string }) => t.id))
      if (!data.hasMore) {
        expect(data.nextCursor).toBeNull()
        break
      }
      cursor = data.nextCursor
    }
    expect(seen).toHaveLength(7)
    expect(new Set(seen)).toEqual(ids)
    expect(seen).toEqual([...seen].sort().reverse())

    const credits = await api.query("transactions.list", {
      accountId: account.id,
      direction: "credit",
      minAmount: 102,
    })
    // Same occurredAt everywhere, so the order falls back to id, newest-first like the rest.
    const items: Array<{ id: string; amount: number }> = credits.body.result.data.items
    expect(items.map((t) => t.amount).sort()).toEqual([102, 104, 106])
    expect(items.map((t) => t.id)).toEqual(
      items
        .map((t) => t.id)
        .sort()
        .reverse(),
    )
  })

  it("updates descriptive fields, bumps the version and refuses a stale version", async () => {
    const account = await newWallet()
    const created = (
      await api.mutate("transactions.create", {
        accountId: account.id,
        direction: "debit",
        amount: 500,
        currency: "USD",
        description: "Coffe",
      })
    ).body.result.data
    const updated = await api.mutate("transactions.update", {
      id: created.id,
      expectedVersion: 1,
      description: "Coffee",
      category: null,
    })
    expect(updated.status).toBe(200)
    expect(updated.body.result.data).toMatchObject({
      description: "Coffee",
      category: null,
      amount: 500,
      version: 2,
    })

    const stale = await api.mutate("transactions.update", {
      id: created.id,
      expectedVersion: 1,
      description: "Tea",
    })
    expect(stale.status).toBe(409)
    expect(stale.body.error.data).toMatchObject({
      tag: "VersionConflict",
      details: { id: created.id, expectedVersion: 1, currentVersion: 2 },
    })
  })

  it("refuses to change the amount through an update", async () => {
    const account = await newWallet()
    const created = (
      await api.mutate("transactions.create", {
        accountId: account.id,
        direction: "debit",
        amount: 500,
        currency: "USD",
      })
    ).body.result.data
    const response = await api.call("transactions.update", {
      id: created.id,
      expectedVersion: 1,
      amount: 1,
    })
    expect(response.status).toBe(400)
    expect(response.body.error.data.issues).toEqual([
      { path: ["amount"], message: "Expected no excess property" },
    ])
    const read = await api.query("transactions.get", { id: created.id })
    expect(read.body.result.data.amount).toBe(500)
  })
})
