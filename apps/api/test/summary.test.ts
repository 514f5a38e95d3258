import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createAccount, type Input, type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let usd: Json
let eur: Json
beforeAll(async () => {
  api = await startTestApi()
  const account = (currency: string) =>
    createAccount(api, { name: currency, currency, allowNegative: true })
  usd = await account("USD")
  eur = await account("EUR")
  const create = async (input: Input<"transactions.create">) => {
    const response = await api.mutate("transactions.create", input)
    expect(response.status).toBe(200)
  }
  const at = (occurredAt: string) => ({ occurredAt })
  await create({
    accountId: usd.id,
    direction: "credit",
    amount: 10_000,
    currency: "USD",
    category: "salary",
    ...at("2026-03-01T08:00:00Z"),
  })
  await create({
    accountId: usd.id,
    direction: "debit",
    amount: 1_250,
    currency: "USD",
    category: "food",
    ...at("2026-03-01T12:00:00Z"),
  })
  await create({
    accountId: usd.id,
    direction: "debit",
    amount: 750,
    currency: "USD",
    category: "food",
    ...at("2026-03-02T23:59:59.999Z"),
  })
  await create({
    accountId: usd.id,
    direction: "debit",
    amount: 300,
    currency: "USD",
    ...at("2026-04-10T00:00:00Z"),
  })
  // Not posted, so not counted.
  await create({
    accountId: usd.id,
    direction: "debit",
    amount: 99_999,
    currency: "USD",
    category: "food",
    status: "pending",
    ...at("2026-03-01T13:00:00Z"),
  })
  // Outside the range: the upper bound is exclusive.
  await create({
    accountId: usd.id,
    direction: "debit",
    amount: 5,
    currency: "USD",
    category: "food",
    ...at("2026-05-01T00:00:00Z"),
  })
  await create({
    accountId: eur.id,
    direction: "debit",
    amount: 400,
    currency: "EUR",
    category: "food",
    ...at("2026-03-01T09:00:00Z"),
  })
})
afterAll(() => api.close())

const range = { occurredFrom: "2026-03-01T00:00:00Z", occurredTo: "2026-05-01T00:00:00Z" }
type SummaryInput = Input<"transactions.summary">
const summary = async (input: Partial<SummaryInput> & Pick<SummaryInput, "groupBy">) =>
  ok(await api.query("transactions.summary", { ...range, ...input }))

describe("transactions.summary", () => {
  it("totals posted money by category, per currency, uncategorized last", async () => {
    const result = await summary({ groupBy: "category" })
    expect(result).toEqual({
      groupBy: "category",
      occurredFrom: "2026-03-01T00:00:00.000Z",
      occurredTo: "2026-05-01T00:00:00.000Z",
      groups: [
        { key: "food", currency: "EUR", credits: 0, debits: 400, net: -400, count: 1 },
        { key: "food", currency: "USD", credits: 0, debits: 2_000, net: -2_000, count: 2 },
        { key: "salary", currency: "USD", credits: 10_000, debits: 0, net: 10_000, count: 1 },
        { key: null, currency: "USD", credits: 0, debits: 300, net: -300, count: 1 },
      ],
    })
  })

  it("groups by UTC day and by UTC month", async () => {
    const days = await summary({ groupBy: "day", currency: "USD" })
    expect(days.groups).toEqual([
      { key: "2026-03-01", currency: "USD", credits: 10_000, debits: 1_250, net: 8_750, count: 2 },
      { key: "2026-03-02", currency: "USD", credits: 0, debits: 750, net: -750, count: 1 },
      { key: "2026-04-10", currency: "USD", credits: 0, debits: 300, net: -300, count: 1 },
    ])
    const months = await summary({ groupBy: "month", accountId: usd.id })
    expect(months.groups).toEqual([
      { key: "2026-03", currency: "USD", credits: 10_000, debits: 2_000, net: 8_000, count: 3 },
      { key: "2026-04", currency: "USD", credits: 0, debits: 300, net: -300, count: 1 },
    ])
  })

  it("includes the lower bound and excludes the upper one", async () => {
    const firstMinute = await summary({
      groupBy: "day",
      occurredFrom: "2026-03-01T08:00:00Z",
      occurredTo: "2026-03-01T12:00:00Z",
    })
    expect(firstMinute.groups.map((g: Json) => [g.currency, g.count])).toEqual([
      ["EUR", 1],
      ["USD", 1],
    ])
  })

  it("answers an empty range with no groups", async () => {
    expect(
      (
        await summary({
          groupBy: "month",
          occurredFrom: "2020-01-01T00:00:00Z",
          occurredTo: "2020-02-01T00:00:00Z",
        })
      ).groups,
    ).toEqual([])
  })

  it("rejects a range that ends before it starts, naming occurredTo, and an unknown grouping", async () => {
    const backwards = await api.query("transactions.summary", {
      groupBy: "day",
      occurredFrom: "2026-03-02T00:00:00Z",
      occurredTo: "2026-03-01T00:00:00Z",
    })
    expect(backwards.status).toBe(400)
    expect(backwards.body.error.data.issues.map((i: Json) => i.path)).toEqual([["occurredTo"]])
    const week = await api.call(
      "transactions.summary",
      { ...range, groupBy: "week" },
      { method: "GET" },
    )
    expect(week.status).toBe(400)
    expect(week.body.error.data.issues.map((i: Json) => i.path)).toEqual([["groupBy"]])
  })
})
