import type { Transaction } from "@txn/client"
import { describe, expect, it, vi } from "vitest"
import {
  decimalsHint,
  filterCurrency,
  fromLocalInput,
  matchesFilters,
  noFilters,
  parseTime,
  readFilters,
  type TransactionFilters,
  toListInput,
  toLocalInput,
  writeFilters,
} from "../src/screens/transactionFilters.ts"

// The dashboard bundles @txn/client from its sources (vite.config.ts aliases it); vitest would
// take the package's build, which may be older than its sources. Use the sources here too.
vi.mock("@txn/client", () => import("../../../packages/client/src/money.ts"))

const account = "acc_0123456789abcdefghijklmnop"
const otherAccount = "acc_zyxwvutsrqponmlkjihgfedcba"
const selected = "txn_0123456789abcdefghijklmnop"

const every: TransactionFilters = {
  accountId: account,
  status: "posted",
  direction: "debit",
  category: "rent & bills",
  occurredFrom: "2026-01-01T00:00:00.000Z",
  occurredTo: "2026-02-01T12:30:00.000Z",
  minAmount: "10.50",
  maxAmount: "1000",
  search: "50% off + more=yes?#",
}

describe("readFilters and writeFilters", () => {
  it("round-trips every filter and the selection", () => {
    const query = writeFilters(every, selected)
    const read = readFilters(query)
    expect(read.filters).toEqual(every)
    expect(read.selected).toBe(selected)
    expect(read.notes).toEqual([])
    // With the leading "?" as location.search has it, too.
    expect(readFilters(`?${query}`).filters).toEqual(every)
  })

  it("round-trips each filter alone, leaving the others unset", () => {
    for (const key of Object.keys(every) as Array<keyof TransactionFilters>) {
      const one = { ...noFilters, [key]: every[key] }
      const query = writeFilters(one)
      expect(query.startsWith(`${key}=`)).toBe(true)
      expect(readFilters(query)).toEqual({ filters: one, selected: undefined, notes: [] })
    }
  })

  it("writes nothing for no filters, and reads nothing from an empty query", () => {
    expect(writeFilters(noFilters)).toBe("")
    expect(readFilters("")).toEqual({ filters: noFilters, selected: undefined, notes: [] })
    expect(readFilters("?")).toEqual({ filters: noFilters, selected: undefined, notes: [] })
  })

  it("writes the parameters in one order, whatever the object's", () => {
    const reversed = Object.fromEntries(Object.entries(every).reverse()) as TransactionFilters
    expect(writeFilters(reversed)).toBe(writeFilters(every))
    expect(
      writeFilters(every)
        .split("&")
        .map((pair) => pair.split("=")[0]),
    ).toEqual([
      "accountId",
      "status",
      "direction",
      "category",
      "occurredFrom",
      "occurredTo",
      "minAmount",
      "maxAmount",
      "search",
    ])
  })

  it("reads the URL the brief's links use", () => {
    const read = readFilters(`?accountId=${account}&status=posted&search=rent&selected=${selected}`)
    expect(read.filters).toEqual({
      ...noFilters,
      accountId: account,
      status: "posted",
      search: "rent",
    })
    expect(read.selected).toBe(selected)
  })

  it("drops invalid values with a note each, keeping the valid ones", () => {
    const read = readFilters(
      [
        "accountId=acc_nope",
        "status=settled",
        "direction=sideways",
        `category=${"c".repeat(101)}`,
        "occurredFrom=2026-02-30T00:00:00Z",
        "occurredTo=yesterday",
        `minAmount=${"9".repeat(41)}`,
        "maxAmount=5",
        `search=${"s".repeat(201)}`,
        "selected=txn_short",
        "unknown=ignored",
      ].join("&"),
    )
    expect(read.filters).toEqual({ ...noFilters, maxAmount: "5" })
    expect(read.selected).toBeUndefined()
    expect(read.notes).toHaveLength(9)
    expect(read.notes[0]).toBe('Account "acc_nope" ignored: not an account id.')
    expect(read.notes[1]).toBe(
      'Status "settled" ignored: expected one of pending, posted, voided, reversed.',
    )
    expect(read.notes.join(" ")).toContain("From")
    expect(read.notes.join(" ")).toContain('To "yesterday" ignored: not a date and time.')
    expect(read.notes.at(-1)).toContain("Selected transaction")
  })

  it("never throws, whatever the query", () => {
    for (const query of [
      "%",
      "%E0%A4%A",
      "a=%ZZ",
      "&&&",
      "status",
      "=posted",
      "search=%00",
      "status=POSTED",
    ]) {
      expect(() => readFilters(query)).not.toThrow()
    }
    expect(readFilters("status=POSTED").filters.status).toBe("posted")
    expect(readFilters("search=a%00b").filters.search).toBe("")
    expect(readFilters("search=a%00b").notes).toHaveLength(1)
  })

  it("takes the first of a repeated parameter and ignores blank ones", () => {
    expect(readFilters("status=posted&status=voided").filters.status).toBe("posted")
    expect(readFilters("status=&search=%20%20").filters).toEqual(noFilters)
  })

  it("normalizes times with an offset to UTC, and reads times without one as local", () => {
    expect(readFilters("occurredFrom=2026-01-31T12:00:00%2B02:00").filters.occurredFrom).toBe(
      "2026-01-31T10:00:00.000Z",
    )
    expect(parseTime("2026-01-31T12:00Z")).toBe("2026-01-31T12:00:00.000Z")
    expect(parseTime("2026-01-31T12:00:00.5-01:30")).toBe("2026-01-31T13:30:00.500Z")
    expect(parseTime("2026-01-31")).toBe(new Date(2026, 0, 31).toISOString())
    expect(parseTime("2026-01-31T08:15")).toBe(new Date(2026, 0, 31, 8, 15).toISOString())
    expect(parseTime("0999-01-01T00:00:00Z")).toBeUndefined()
    expect(parseTime("2026-13-01T00:00:00Z")).toBeUndefined()
    expect(parseTime("2026-01-01T24:00:00Z")).toBeUndefined()
    expect(parseTime("2026-01-01T00:00:00+16:00")).toBeUndefined()
  })
})

describe("datetime-local inputs", () => {
  it("round-trips a local minute, second and millisecond", () => {
    for (const local of ["2026-03-01T09:05", "2026-03-01T09:05:07", "2026-03-01T09:05:07.120"]) {
      const iso = fromLocalInput(local)
      expect(iso).toBeDefined()
      expect(toLocalInput(iso ?? "")).toBe(local)
    }
  })

  it("round-trips filters through the form's local values", () => {
    const iso = "2026-06-15T08:30:00.000Z"
    expect(fromLocalInput(toLocalInput(iso))).toBe(iso)
  })

  it("gives nothing for an empty or impossible value", () => {
    expect(fromLocalInput("")).toBeUndefined()
    expect(fromLocalInput("2026-02-29T10:00")).toBeUndefined()
    expect(toLocalInput("")).toBe("")
    expect(toLocalInput("not a time")).toBe("")
  })
})

describe("toListInput", () => {
  it("converts every filter, amounts exactly into minor units", () => {
    const { input, notes } = toListInput(every, "USD")
    expect(notes).toEqual([])
    expect(input).toEqual({
      accountId: account,
      status: "posted",
      direction: "debit",
      category: "rent & bills",
      occurredFrom: "2026-01-01T00:00:00.000Z",
      occurredTo: "2026-02-01T12:30:00.000Z",
      minAmount: 1050,
      maxAmount: 100_000,
      search: "50% off + more=yes?#",
    })
  })

  it("converts amounts with no floating-point error, in the currency's own exponent", () => {
    const amounts = (minAmount: string, maxAmount: string, currency: string) =>
      toListInput({ ...noFilters, minAmount, maxAmount }, currency).input
    // 0.1 + 0.2 and 1.005 * 100 are where binary floating point goes wrong.
    expect(amounts("0.29", "1.005", "KWD")).toEqual({ minAmount: 290, maxAmount: 1005 })
    expect(amounts("0.07", "4.35", "USD")).toEqual({ minAmount: 7, maxAmount: 435 })
    expect(amounts("1234", "5", "JPY")).toEqual({ minAmount: 1234, maxAmount: 5 })
    expect(amounts("90071992547409.91", "0", "USD")).toEqual({
      minAmount: Number.MAX_SAFE_INTEGER,
      maxAmount: 0,
    })
    expect(amounts("1 000.5", "1_000", "EUR")).toEqual({ minAmount: 100_050, maxAmount: 100_000 })
  })

  it("leaves out an amount that is not one in the currency, with a note", () => {
    const tooPrecise = toListInput({ ...noFilters, minAmount: "1.234", maxAmount: "5" }, "USD")
    expect(tooPrecise.input).toEqual({ maxAmount: 500 })
    expect(tooPrecise.notes).toEqual([
      'Min amount "1.234" ignored: not an amount in USD, such as 12.34 (at most 2 decimals).',
    ])
    expect(toListInput({ ...noFilters, maxAmount: "1.5" }, "JPY").notes).toEqual([
      'Max amount "1.5" ignored: not an amount in JPY, a whole number such as 12.',
    ])
    expect(toListInput({ ...noFilters, minAmount: "ten" }, "USD").input).toEqual({})
    expect(toListInput({ ...noFilters, minAmount: "-5" }, "USD").notes).toEqual([
      'Min amount "-5" ignored: amounts are never negative.',
    ])
    expect(toListInput({ ...noFilters, minAmount: "99999999999999999" }, "USD").input).toEqual({})
  })

  it("notes filters that cannot match anything, but keeps them", () => {
    const crossed = toListInput(
      {
        ...noFilters,
        minAmount: "10",
        maxAmount: "1",
        occurredFrom: "2026-02-01T00:00:00.000Z",
        occurredTo: "2026-01-01T00:00:00.000Z",
      },
      "USD",
    )
    expect(crossed.input.minAmount).toBe(1000)
    expect(crossed.input.maxAmount).toBe(100)
    expect(crossed.notes).toHaveLength(2)
  })

  it("trims the search text and leaves out a blank one", () => {
    expect(toListInput({ ...noFilters, search: "  rent " }, "USD").input).toEqual({
      search: "rent",
    })
    expect(toListInput({ ...noFilters, search: "   " }, "USD").input).toEqual({})
  })
})

describe("filterCurrency and decimalsHint", () => {
  const accounts = [
    { id: account, currency: "JPY" },
    { id: otherAccount, currency: "KWD" },
  ]
  it("is the chosen account's currency, else USD", () => {
    expect(filterCurrency(account, accounts)).toBe("JPY")
    expect(filterCurrency(otherAccount, accounts)).toBe("KWD")
    expect(filterCurrency("", accounts)).toBe("USD")
    expect(filterCurrency(account, undefined)).toBe("USD")
  })
  it("describes each exponent", () => {
    expect(decimalsHint("USD")).toBe(", such as 12.34 (at most 2 decimals)")
    expect(decimalsHint("KWD")).toBe(", such as 12.345 (at most 3 decimals)")
    expect(decimalsHint("JPY")).toBe(", a whole number such as 12")
    expect(decimalsHint("XYZ")).toBe("")
  })
})

describe("matchesFilters", () => {
  const transaction: Transaction = {
    id: selected,
    accountId: account,
    userId: "usr_0123456789abcdefghijklmnop",
    direction: "debit",
    amount: 1050,
    currency: "USD",
    status: "posted",
    description: "Monthly RENT",
    category: "housing",
    counterparty: null,
    reference: "inv-7",
    occurredAt: "2026-01-15T10:00:00.000Z",
    expiresAt: null,
    metadata: {},
    version: 1,
    reversalOf: null,
    reversedBy: null,
    transferId: null,
    createdAt: "2026-01-15T10:00:00.000Z",
    updatedAt: "2026-01-15T10:00:00.000Z",
  }

  it("matches what transactions.list would give", () => {
    expect(matchesFilters(transaction, {})).toBe(true)
    expect(
      matchesFilters(transaction, {
        accountId: account,
        status: "posted",
        direction: "debit",
        category: "housing",
        occurredFrom: "2026-01-15T10:00:00.000Z",
        occurredTo: "2026-01-15T10:00:00.001Z",
        minAmount: 1050,
        maxAmount: 1050,
        search: "rent",
      }),
    ).toBe(true)
    expect(matchesFilters(transaction, { search: "INV-7" })).toBe(true)
  })

  it("refuses what it would not", () => {
    for (const input of [
      { accountId: otherAccount },
      { status: "pending" as const },
      { direction: "credit" as const },
      { category: "Housing" },
      { occurredFrom: "2026-01-15T10:00:00.001Z" },
      { occurredTo: "2026-01-15T10:00:00.000Z" },
      { minAmount: 1051 },
      { maxAmount: 1049 },
      { search: "groceries" },
    ]) {
      expect(matchesFilters(transaction, input)).toBe(false)
    }
  })
})
