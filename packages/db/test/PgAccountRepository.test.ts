import { type Account, AccountRepository, type Currency, type ListAccounts } from "@txn/domain"
import * as Option from "effect/Option"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  accountOf,
  createUser,
  insertAccount,
  makeRuntime,
  newestFirst,
  type TestRuntime,
} from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

const list = (account: Pick<Account, "userId">, query: ListAccounts = {}) =>
  runtime.runPromise(AccountRepository.use((accounts) => accounts.list(account.userId, query)))

describe("PgAccountRepository", () => {
  it("returns every field of an inserted account unchanged", async () => {
    const userId = await runtime.runPromise(createUser)
    const account = accountOf(userId, {
      name: "Tagesgeld 💶 \"main\" 'o''k'",
      currency: "JPY" as Currency,
      allowNegative: true,
      metadata: {
        emoji: "🏦💸👨‍👩‍👧",
        quotes: `"double" 'single' \`back\``,
        sql: "'); drop table accounts; --",
        backslash: "C:\\path\\n",
      },
      createdAt: "2026-03-04T05:06:07.089Z",
      updatedAt: "2026-03-05T05:06:07.089Z",
    })

    const inserted = await runtime.runPromise(insertAccount(account))
    const found = await runtime.runPromise(
      AccountRepository.use((accounts) => accounts.findById(userId, account.id)),
    )

    expect(inserted).toEqual(account)
    expect(found).toEqual(Option.some(account))
  })

  it("does not find another user's account", async () => {
    const owner = await runtime.runPromise(createUser)
    const stranger = await runtime.runPromise(createUser)
    const account = await runtime.runPromise(insertAccount(accountOf(owner)))

    const found = await runtime.runPromise(
      AccountRepository.use((accounts) => accounts.findById(stranger, account.id)),
    )

    expect(found).toEqual(Option.none())
  })

  describe("list", () => {
    // Seven accounts, two created at the same instant so the id decides their order.
    const createdAt = [
      "2026-01-01T00:00:00.000Z",
      "2026-01-02T00:00:00.000Z",
      "2026-01-03T00:00:00.000Z",
      "2026-01-03T00:00:00.000Z",
      "2026-01-04T00:00:00.000Z",
      "2026-01-05T00:00:00.000Z",
      "2026-01-06T00:00:00.000Z",
    ]
    let accounts: Array<Account>
    let newest: Array<Account>

    beforeAll(async () => {
      const userId = await runtime.runPromise(createUser)
      accounts = []
      for (const [i, at] of createdAt.entries()) {
        const currency = (i % 2 === 0 ? "EUR" : "USD") as Currency
        accounts.push(
          await runtime.runPromise(
            insertAccount(accountOf(userId, { currency, createdAt: at, updatedAt: at })),
          ),
        )
      }
      newest = [...accounts].sort(newestFirst((a) => a.createdAt))
    })

    it("lists the user's accounts newest first", async () => {
      const page = await list(accounts[0]!)
      expect(page.items.map((a) => a.id)).toEqual(newest.map((a) => a.id))
      expect(page.items[0]!.createdAt).toBe("2026-01-06T00:00:00.000Z")
      expect(page).toMatchObject({ hasMore: false, nextCursor: null })
    })

    it("lists only the accounts in the requested currency", async () => {
      const page = await list(accounts[0]!, { currency: "USD" as Currency })
      expect(page.items.map((a) => a.id)).toEqual(
        newest.filter((a) => a.currency === "USD").map((a) => a.id),
      )
      expect(page.items).toHaveLength(3)
    })

    it("pages 7 accounts by 3 as 3, 3 and 1 without duplicates or gaps", async () => {
      const first = await list(accounts[0]!, { limit: 3 })
      expect(first.items).toHaveLength(3)
      expect(first.hasMore).toBe(true)
      expect(first.nextCursor).toEqual(expect.any(String))

      const second = await list(accounts[0]!, { limit: 3, cursor: first.nextCursor! })
      expect(second.items).toHaveLength(3)
      expect(second.hasMore).toBe(true)

      const third = await list(accounts[0]!, { limit: 3, cursor: second.nextCursor! })
      expect(third.items).toHaveLength(1)
      expect(third).toMatchObject({ hasMore: false, nextCursor: null })

      const paged = [...first.items, ...second.items, ...third.items].map((a) => a.id)
      expect(paged).toEqual(newest.map((a) => a.id))
    })

    it("reports no further page when the last page is exactly full", async () => {
      const page = await list(accounts[0]!, { limit: 7 })
      expect(page.items).toHaveLength(7)
      expect(page).toMatchObject({ hasMore: false, nextCursor: null })
    })
  })
})
