import { currencyExponents } from "@txn/domain"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { exponentOf, formatMinorUnits, parseMajorUnits } from "../src/index.ts"

const currencies = Object.keys(currencyExponents)

describe("money in major units", () => {
  it("knows each currency's exponent as the API does", () => {
    expect(exponentOf("USD")).toBe(2)
    expect(exponentOf("JPY")).toBe(0)
    expect(exponentOf("KWD")).toBe(3)
    expect(exponentOf("usd")).toBeUndefined()
    expect(exponentOf("XXX")).toBeUndefined()
  })

  it("formats exactly, at the edges of size and sign", () => {
    expect(formatMinorUnits(1234, "USD")).toBe("12.34")
    expect(formatMinorUnits(-1234, "USD")).toBe("-12.34")
    expect(formatMinorUnits(5, "USD")).toBe("0.05")
    expect(formatMinorUnits(-5, "KWD")).toBe("-0.005")
    expect(formatMinorUnits(0, "USD")).toBe("0.00")
    expect(formatMinorUnits(1234, "JPY")).toBe("1234")
    expect(formatMinorUnits(Number.MAX_SAFE_INTEGER, "USD")).toBe("90071992547409.91")
    expect(formatMinorUnits(-Number.MAX_SAFE_INTEGER, "KWD")).toBe("-9007199254740.991")
    expect(() => formatMinorUnits(1.5, "USD")).toThrow(RangeError)
    expect(() => formatMinorUnits(2 ** 53, "USD")).toThrow(RangeError)
  })

  it("parses what a person types, exactly, and refuses what it cannot hold", () => {
    expect(parseMajorUnits("12.34", "USD")).toBe(1234)
    expect(parseMajorUnits(" 12 ", "USD")).toBe(1200)
    expect(parseMajorUnits("0.5", "USD")).toBe(50)
    expect(parseMajorUnits("1_000.10", "USD")).toBe(100010)
    expect(parseMajorUnits("-0.01", "USD")).toBe(-1)
    expect(parseMajorUnits("12.", "USD")).toBe(1200)
    expect(parseMajorUnits("0.1", "JPY")).toBeUndefined()
    expect(parseMajorUnits("1.234", "USD")).toBeUndefined()
    expect(parseMajorUnits("1,234.56", "USD")).toBeUndefined()
    expect(parseMajorUnits("12,34", "EUR")).toBeUndefined()
    expect(parseMajorUnits("1e3", "USD")).toBeUndefined()
    expect(parseMajorUnits("", "USD")).toBeUndefined()
    expect(parseMajorUnits(".5", "USD")).toBeUndefined()
    expect(parseMajorUnits("12.34", "XXX")).toBeUndefined()
    expect(parseMajorUnits("90071992547409.91", "USD")).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseMajorUnits("90071992547409.92", "USD")).toBeUndefined()
    // 0.1 + 0.2 in floating point is 0.30000000000000004: parsing never goes through it.
    expect(parseMajorUnits("0.29", "USD")).toBe(29)
    expect(parseMajorUnits("1.005", "KWD")).toBe(1005)
  })

  it("gives back every safe amount in every currency after formatting it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...currencies),
        fc.oneof(
          fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 0, max: 15 }).map((power) => 10 ** power),
          fc.integer({ min: 0, max: 15 }).map((power) => 10 ** power - 1),
        ),
        (currency, amount) => {
          expect(parseMajorUnits(formatMinorUnits(amount, currency), currency)).toBe(amount)
        },
      ),
      { numRuns: 2000 },
    )
  })
})
