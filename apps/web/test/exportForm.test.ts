import { describe, expect, it } from "vitest"
import { filenameFromDisposition } from "../src/screens/exportFile.ts"
import {
  emptyExportForm,
  exportInput,
  filtersLabel,
  isSettled,
  localMidnight,
  progressOf,
  rowsLabel,
} from "../src/screens/exportForm.ts"

describe("exportInput", () => {
  it("leaves out empty fields", () => {
    expect(exportInput(emptyExportForm)).toEqual({ ok: true, input: {} })
  })

  it("makes From the start and To the end of those days, in local time", () => {
    const result = exportInput({
      ...emptyExportForm,
      accountId: "acc_1",
      from: "2026-01-01",
      to: "2026-01-31",
      direction: "debit",
      status: "posted",
      category: "  food ",
      search: " coffee ",
    })
    expect(result).toEqual({
      ok: true,
      input: {
        accountId: "acc_1",
        occurredFrom: new Date(2026, 0, 1).toISOString(),
        occurredTo: new Date(2026, 1, 1).toISOString(),
        direction: "debit",
        status: "posted",
        category: "food",
        search: "coffee",
      },
    })
  })

  it("accepts one day as From and To", () => {
    const result = exportInput({ ...emptyExportForm, from: "2026-03-01", to: "2026-03-01" })
    expect(result.ok).toBe(true)
  })

  it("refuses To before From, impossible dates and years out of range", () => {
    expect(exportInput({ ...emptyExportForm, from: "2026-03-02", to: "2026-03-01" })).toMatchObject(
      { ok: false, field: "to" },
    )
    expect(exportInput({ ...emptyExportForm, from: "2026-02-31" })).toMatchObject({
      ok: false,
      field: "from",
    })
    expect(exportInput({ ...emptyExportForm, to: "20260-01-01" })).toMatchObject({
      ok: false,
      field: "to",
    })
    expect(exportInput({ ...emptyExportForm, from: "0999-12-01" })).toMatchObject({
      ok: false,
      field: "from",
    })
  })

  it("refuses text longer than the API takes", () => {
    expect(exportInput({ ...emptyExportForm, category: "x".repeat(101) })).toMatchObject({
      ok: false,
      field: "category",
    })
    expect(exportInput({ ...emptyExportForm, search: "x".repeat(201) })).toMatchObject({
      ok: false,
      field: "search",
    })
  })
})

describe("localMidnight", () => {
  it("rolls over months and years", () => {
    expect(localMidnight("2026-12-31", 1)).toBe(new Date(2027, 0, 1).toISOString())
    expect(localMidnight("2028-02-28", 1)).toBe(new Date(2028, 1, 29).toISOString())
    expect(localMidnight("not a date")).toBeUndefined()
  })
})

describe("progressOf", () => {
  const base = { totalRows: null, rowsWritten: 0, progress: 0 } as const
  it("is indeterminate while queued or not counted", () => {
    expect(progressOf({ ...base, status: "queued" })).toBeUndefined()
    expect(progressOf({ ...base, status: "running" })).toBeUndefined()
  })
  it("shows rows written of the total while running", () => {
    expect(
      progressOf({ status: "running", totalRows: 1000, rowsWritten: 419, progress: 0.419 }),
    ).toEqual({ value: 419, max: 1000 })
    expect(progressOf({ status: "running", totalRows: 0, rowsWritten: 0, progress: 0 })).toEqual({
      value: 0,
      max: 1,
    })
  })
  it("is full once completed, also for an empty file", () => {
    expect(
      progressOf({ status: "completed", totalRows: 12, rowsWritten: 12, progress: 1 }),
    ).toEqual({ value: 12, max: 12 })
    expect(progressOf({ status: "completed", totalRows: 0, rowsWritten: 0, progress: 1 })).toEqual({
      value: 1,
      max: 1,
    })
  })
  it("is never indeterminate once failed", () => {
    expect(progressOf({ ...base, status: "failed" })).toEqual({ value: 0, max: 1 })
  })
})

describe("rowsLabel and isSettled", () => {
  it("groups thousands", () => {
    expect(
      rowsLabel({ status: "running", totalRows: 1000000, rowsWritten: 419000, progress: 0.419 }),
    ).toBe("419\u202f000 of 1\u202f000\u202f000")
    expect(rowsLabel({ status: "queued", totalRows: null, rowsWritten: 0, progress: 0 })).toBe("0")
  })
  it("knows the end states", () => {
    expect(isSettled("completed")).toBe(true)
    expect(isSettled("failed")).toBe(true)
    expect(isSettled("running")).toBe(false)
    expect(isSettled("queued")).toBe(false)
  })
})

describe("filtersLabel", () => {
  it("names the account and the last day included", () => {
    const from = new Date(2026, 0, 1).toISOString()
    const to = new Date(2026, 1, 1).toISOString()
    const day = (iso: string) => {
      const d = new Date(iso)
      return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`
    }
    expect(
      filtersLabel(
        { accountId: "acc_1", occurredFrom: from, occurredTo: to, direction: "credit" },
        (id) => (id === "acc_1" ? "Wallet" : undefined),
        day,
      ),
    ).toBe("Wallet, from 2026-1-1, to 2026-1-31, credits")
    expect(filtersLabel({})).toBe("All accounts")
  })
})

describe("filenameFromDisposition", () => {
  it("reads the API's header", () => {
    expect(filenameFromDisposition('attachment; filename="exp_abc.csv"', "fallback.csv")).toBe(
      "exp_abc.csv",
    )
  })
  it("prefers the RFC 5987 name", () => {
    expect(
      filenameFromDisposition(
        "attachment; filename=\"plain.csv\"; filename*=UTF-8''%C3%A9t%C3%A9.csv",
        "f.csv",
      ),
    ).toBe("été.csv")
  })
  it("takes an unquoted name", () => {
    expect(filenameFromDisposition("attachment; filename=a.csv; size=3", "f.csv")).toBe("a.csv")
  })
  it("falls back without a usable name, and drops path separators", () => {
    expect(filenameFromDisposition(null, "exp_1.csv")).toBe("exp_1.csv")
    expect(filenameFromDisposition("attachment", "exp_1.csv")).toBe("exp_1.csv")
    expect(filenameFromDisposition('attachment; filename=".."', "exp_1.csv")).toBe("exp_1.csv")
    expect(filenameFromDisposition('attachment; filename="../../etc/x.csv"', "f.csv")).toBe(
      ".._.._etc_x.csv",
    )
  })
})
