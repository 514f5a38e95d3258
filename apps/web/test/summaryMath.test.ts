import { describe, expect, it } from "vitest"
import { axisLabel, indexIncrs, minorUnitIncrs, shortLabel } from "../src/chartFormat.ts"
import {
  addDays,
  alignTotals,
  defaultPeriod,
  formatMinorBig,
  isDateText,
  monthsBetween,
  periodRange,
  sumMinor,
} from "../src/screens/summaryMath.ts"

describe("summary period", () => {
  it("defaults to the last 12 months, from the first of the month 11 months ago to today", () => {
    expect(defaultPeriod(new Date("2026-12-07T15:00:00Z"))).toEqual({
      from: "2026-01-01",
      to: "2026-12-07",
    })
    expect(defaultPeriod(new Date("2026-03-31T23:59:59Z"))).toEqual({
      from: "2025-04-01",
      to: "2026-03-31",
    })
  })

  it("knows a real date", () => {
    expect(isDateText("2026-02-28")).toBe(true)
    expect(isDateText("2024-02-29")).toBe(true)
    expect(isDateText("2026-02-29")).toBe(false)
    expect(isDateText("2026-2-1")).toBe(false)
    expect(isDateText("")).toBe(false)
    expect(isDateText("0999-12-31")).toBe(false)
  })

  it("adds days across months and years", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01")
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29")
  })

  it("makes a half-open UTC range with both days included", () => {
    expect(periodRange("2026-01-01", "2026-01-31")).toEqual({
      occurredFrom: "2026-01-01T00:00:00.000Z",
      occurredTo: "2026-02-01T00:00:00.000Z",
    })
    expect(periodRange("2026-01-01", "2026-01-01")).toEqual({
      occurredFrom: "2026-01-01T00:00:00.000Z",
      occurredTo: "2026-01-02T00:00:00.000Z",
    })
    expect(periodRange("2026-02-01", "2026-01-31")).toEqual({
      error: "To must be on or after From.",
    })
    expect(periodRange("", "2026-01-31")).toHaveProperty("error")
    expect(periodRange("2026-01-01", "9999-12-31")).toHaveProperty("error")
  })

  it("lists the months a period touches", () => {
    expect(monthsBetween("2025-11-15", "2026-02-01")).toEqual([
      "2025-11",
      "2025-12",
      "2026-01",
      "2026-02",
    ])
    expect(monthsBetween("2026-01-01", "2026-01-31")).toEqual(["2026-01"])
    expect(monthsBetween("2026-02-01", "2026-01-01")).toEqual([])
    expect(monthsBetween("2000-01-01", "2099-12-31", 24)).toHaveLength(24)
  })

  it("aligns totals to keys, 0 where a key has none", () => {
    expect(
      alignTotals(
        ["2026-01", "2026-02", "2026-03"],
        [
          { key: "2026-01", credits: 100, debits: 5 },
          { key: "2026-03", credits: 0, debits: 7 },
          { key: "2025-12", credits: 1, debits: 1 },
        ],
      ),
    ).toEqual({ credits: [100, 0, 0], debits: [5, 0, 7] })
  })
})

describe("exact totals", () => {
  it("sums minor units beyond a safe integer", () => {
    expect(sumMinor([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])).toBe(
      2n * BigInt(Number.MAX_SAFE_INTEGER),
    )
    expect(sumMinor([])).toBe(0n)
    expect(sumMinor([1, -3])).toBe(-2n)
  })

  it("writes a total as money does", () => {
    expect(formatMinorBig(1234n, 2, "USD")).toBe("12.34 USD")
    expect(formatMinorBig(-5n, 2, "USD")).toBe("-0.05 USD")
    expect(formatMinorBig(0n, 2, "USD")).toBe("0.00 USD")
    expect(formatMinorBig(123456789n, 2, "EUR")).toBe("1\u202f234\u202f567.89 EUR")
    expect(formatMinorBig(-1234567n, 0, "JPY")).toBe("-1\u202f234\u202f567 JPY")
    expect(formatMinorBig(5n, 3, "KWD")).toBe("0.005 KWD")
    expect(formatMinorBig(18014398509481982n, 2, "USD")).toBe(
      "180\u202f143\u202f985\u202f094\u202f819.82 USD",
    )
  })
})

describe("chart axes", () => {
  it("shortens a major-unit decimal without rounding", () => {
    expect(axisLabel("0.00")).toBe("0")
    expect(axisLabel("-0.00")).toBe("0")
    expect(axisLabel("0.05")).toBe("0.05")
    expect(axisLabel("12.50")).toBe("12.5")
    expect(axisLabel("950.00")).toBe("950")
    expect(axisLabel("5000.00")).toBe("5k")
    expect(axisLabel("1234.00")).toBe("1.2k")
    expect(axisLabel("12000.00")).toBe("12k")
    expect(axisLabel("15500.00")).toBe("15.5k")
    expect(axisLabel("250000.00")).toBe("250k")
    expect(axisLabel("-1200000.00")).toBe("-1.2M")
    expect(axisLabel("5000000000")).toBe("5B")
    expect(axisLabel("20000000000000")).toBe("20T")
    expect(axisLabel("not a number")).toBe("not a number")
  })

  it("ticks at whole minor units and whole indexes only", () => {
    for (const step of [...minorUnitIncrs, ...indexIncrs]) {
      expect(Number.isSafeInteger(step)).toBe(true)
    }
    expect(minorUnitIncrs.slice(0, 6)).toEqual([1, 2, 5, 10, 20, 50])
  })

  it("cuts a long label", () => {
    expect(shortLabel("Groceries")).toBe("Groceries")
    expect(shortLabel("A very long category name", 10)).toBe("A very lo…")
  })
})
