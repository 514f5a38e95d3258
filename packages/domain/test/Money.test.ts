import { describe, expect, it } from "vitest"
import { Amount, Currency, exponentOf, formatMinorUnits } from "../src/index.ts"
import { decoded, issuesOf, isValid } from "./validate.ts"

const currency = (code: string) => decoded(Currency, code)

describe("Currency", () => {
  it.each(["USD", "JPY", "KWD"])("accepts %s", (code) => {
    expect(decoded(Currency, code)).toBe(code)
  })

  it.each(["usd", "US", "XXX", "ABCD", ""])("rejects %j", (code) => {
    expect(issuesOf(Currency, code)).toEqual([
      { path: [], message: "Expected an ISO 4217 currency code in upper case, such as USD" },
    ])
  })

  it("rejects a number", () => {
    expect(isValid(Currency, 840)).toBe(false)
  })

  // CLF (a unit of account with 4 decimals) is deliberately missing from the table, so it must
  // not slip through and be counted with the default exponent of 2.
  it("rejects CLF, which is not in the table of exponents", () => {
    expect(isValid(Currency, "CLF")).toBe(false)
  })
})

describe("exponentOf", () => {
  it.each([
    ["USD", 2],
    ["JPY", 0],
    ["KWD", 3],
    ["BHD", 3],
  ])("gives %s %i decimal places", (code, exponent) => {
    expect(exponentOf(currency(code))).toBe(exponent)
  })
})

describe("Amount", () => {
  it.each([1, Number.MAX_SAFE_INTEGER])("accepts %d minor units", (amount) => {
    expect(decoded(Amount, amount)).toBe(amount)
  })

  it.each([0, -1, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    "rejects %d",
    (amount) => {
      expect(isValid(Amount, amount)).toBe(false)
    },
  )

  it("rejects a numeric string", () => {
    expect(isValid(Amount, "100")).toBe(false)
  })

  it("rejects null", () => {
    expect(isValid(Amount, null)).toBe(false)
  })

  it("explains a fractional amount", () => {
    expect(issuesOf(Amount, 1.5)).toEqual([
      { path: [], message: "Expected a whole number of minor units (an integer)" },
    ])
  })
})

describe("formatMinorUnits", () => {
  it.each([
    [1234, "USD", "12.34"],
    [7, "USD", "0.07"],
    [500, "JPY", "500"],
    [5, "KWD", "0.005"],
  ])("formats %i %s as %s", (amount, code, formatted) => {
    expect(formatMinorUnits({ amount, currency: currency(code) })).toBe(formatted)
  })
})
