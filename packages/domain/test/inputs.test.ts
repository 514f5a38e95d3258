import { describe, expect, it } from "vitest"
import {
  CreateAccount,
  CreateTransaction,
  ListTransactions,
  newAccountId,
  newTransactionId,
  UpdateTransaction,
} from "../src/index.ts"
import { decoded, issuesOf } from "./validate.ts"

const paths = (issues: ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey> }>) =>
  issues.map((issue) => issue.path.join(".")).toSorted()

const validTransaction = {
  accountId: newAccountId(),
  direction: "debit",
  amount: 1250,
  currency: "USD",
}

describe("CreateTransaction", () => {
  it("accepts a minimal transaction", () => {
    expect(decoded(CreateTransaction, validTransaction)).toEqual(validTransaction)
  })

  it("reports every bad field at once", () => {
    const issues = issuesOf(CreateTransaction, {
      accountId: "acc_nope",
      direction: "sideways",
      amount: 0,
      currency: "usd",
      occurredAt: "yesterday",
    })
    expect(paths(issues)).toEqual(["accountId", "amount", "currency", "direction", "occurredAt"])
  })

  it("reports a missing required field", () => {
    const { amount: _, ...withoutAmount } = validTransaction
    expect(paths(issuesOf(CreateTransaction, withoutAmount))).toEqual(["amount"])
  })

  it("rejects an unknown field, naming it", () => {
    const { amount, ...rest } = validTransaction
    const issues = issuesOf(CreateTransaction, { ...rest, ammount: amount })
    expect(paths(issues)).toEqual(["ammount", "amount"])
  })

  it("rejects an unknown field alongside otherwise valid input", () => {
    expect(issuesOf(CreateTransaction, { ...validTransaction, ammount: 5 })).toEqual([
      { path: ["ammount"], message: expect.any(String) },
    ])
  })

  it('rejects expiresAt without status "pending"', () => {
    const expiresAt = "2030-01-01T00:00:00Z"
    for (const input of [
      { ...validTransaction, expiresAt },
      { ...validTransaction, status: "posted", expiresAt },
    ]) {
      expect(issuesOf(CreateTransaction, input)).toEqual([
        { path: ["expiresAt"], message: 'Expected expiresAt only with status "pending"' },
      ])
    }
  })

  it('accepts expiresAt with status "pending"', () => {
    const input = { ...validTransaction, status: "pending", expiresAt: "2030-01-01T00:00:00Z" }
    expect(decoded(CreateTransaction, input)).toEqual(input)
  })
})

describe("UpdateTransaction", () => {
  it("accepts null for description, which clears it", () => {
    const input = { id: newTransactionId(), expectedVersion: 1, description: null }
    expect(decoded(UpdateTransaction, input)).toEqual(input)
  })

  it("requires expectedVersion, so no update can overwrite a change it has not seen", () => {
    expect(paths(issuesOf(UpdateTransaction, { id: newTransactionId(), category: "x" }))).toEqual([
      "expectedVersion",
    ])
  })

  it("rejects a non-positive expectedVersion", () => {
    expect(
      paths(issuesOf(UpdateTransaction, { id: newTransactionId(), expectedVersion: 0 })),
    ).toEqual(["expectedVersion"])
  })
})

describe("ListTransactions", () => {
  it("accepts no filters", () => {
    expect(decoded(ListTransactions, {})).toEqual({})
  })

  it("rejects limit 0", () => {
    expect(issuesOf(ListTransactions, { limit: 0 })).toEqual([
      { path: ["limit"], message: "Expected a limit from 1 to 200" },
    ])
  })

  it("rejects a negative minAmount", () => {
    expect(paths(issuesOf(ListTransactions, { minAmount: -1 }))).toEqual(["minAmount"])
  })

  it("rejects a cursor it did not issue", () => {
    expect(issuesOf(ListTransactions, { cursor: "abc" })).toEqual([
      { path: ["cursor"], message: "Expected a cursor returned as nextCursor by a list call" },
    ])
  })
})

describe("CreateAccount", () => {
  it("accepts a name and currency", () => {
    expect(decoded(CreateAccount, { name: "Checking", currency: "EUR" })).toEqual({
      name: "Checking",
      currency: "EUR",
    })
  })

  it("rejects an all-whitespace name", () => {
    expect(issuesOf(CreateAccount, { name: " \t\n ", currency: "USD" })).toEqual([
      { path: ["name"], message: "Expected a non-empty name" },
    ])
  })
})
