import { describe, expect, it } from "vitest"
import { AccountId, newAccountId, newTransactionId, newUserId } from "../src/index.ts"
import { isValid } from "./validate.ts"

const body = "0123456789abcdefghijklmnop"

describe("ids", () => {
  it.each([
    ["acc", newAccountId],
    ["txn", newTransactionId],
    ["usr", newUserId],
  ])("new %s ids are the prefix and 26 lower-case letters or digits", (prefix, make) => {
    expect(make()).toMatch(new RegExp(`^${prefix}_[0-9a-z]{26}$`))
  })

  it("never repeats in 10,000 ids", () => {
    const ids = new Set(Array.from({ length: 10_000 }, newAccountId))
    expect(ids.size).toBe(10_000)
  })

  it("AccountId accepts a generated account id", () => {
    expect(isValid(AccountId, newAccountId())).toBe(true)
    expect(isValid(AccountId, `acc_${body}`)).toBe(true)
  })

  it("AccountId rejects a transaction id", () => {
    expect(isValid(AccountId, newTransactionId())).toBe(false)
  })

  it("AccountId rejects upper case", () => {
    expect(isValid(AccountId, `acc_${body.toUpperCase()}`)).toBe(false)
    expect(isValid(AccountId, `ACC_${body}`)).toBe(false)
  })

  it("AccountId rejects the wrong length", () => {
    expect(isValid(AccountId, `acc_${body.slice(1)}`)).toBe(false)
    expect(isValid(AccountId, `acc_${body}0`)).toBe(false)
  })
})
