import { describe, expect, it } from "vitest"
import {
  CreateExport,
  ExportFilters,
  GetExport,
  ListTransactions,
  newAccountId,
} from "../src/index.ts"
import { decoded, issuesOf } from "./validate.ts"

/** The fields named, each once (a value can break more than one rule). */
const paths = (issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey> }>) =>
  [...new Set(issues.map((issue) => issue.path.join(".")))].toSorted()

describe("CreateExport", () => {
  it("takes every filter of transactions.list, and an idempotency key", () => {
    const input = {
      idempotencyKey: "export-2026-01",
      accountId: newAccountId(),
      status: "posted",
      direction: "debit",
      category: "food",
      occurredFrom: "2026-01-01T00:00:00Z",
      occurredTo: "2026-02-01T00:00:00+01:00",
      minAmount: 0,
      maxAmount: 10_000,
      search: "coffee",
    }
    expect(decoded(CreateExport, input)).toEqual(input)
    expect(decoded(CreateExport, {})).toEqual({})
    const { cursor: _c, limit: _l, ...listFilters } = ListTransactions.fields
    expect(Object.keys(ExportFilters.fields).sort()).toEqual(Object.keys(listFilters).sort())
  })

  it("checks the filters as transactions.list does, reporting every bad one", () => {
    const issues = issuesOf(CreateExport, {
      accountId: "acc_nope",
      status: "gone",
      minAmount: -1,
      maxAmount: 2 ** 53,
      search: "",
      occurredFrom: "yesterday",
      idempotencyKey: "with space",
    })
    expect(paths(issues)).toEqual([
      "accountId",
      "idempotencyKey",
      "maxAmount",
      "minAmount",
      "occurredFrom",
      "search",
      "status",
    ])
  })

  it("refuses paging fields: an export holds every matching row", () => {
    expect(paths(issuesOf(CreateExport, { limit: 10, cursor: "abc" }))).toEqual(["cursor", "limit"])
  })
})

describe("GetExport", () => {
  it("takes an export id only", () => {
    const id = `exp_${"0".repeat(26)}`
    expect(decoded(GetExport, { id })).toEqual({ id })
    expect(paths(issuesOf(GetExport, { id: `txn_${"0".repeat(26)}` }))).toEqual(["id"])
  })
})
