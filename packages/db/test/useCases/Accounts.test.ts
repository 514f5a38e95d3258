import { Accounts, Currency, newAccountId, newUserId, type UserRepository } from "@txn/domain"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { createUser, useCasesLayer } from "../fixtures.ts"

const run = <A, E>(effect: Effect.Effect<A, E, Accounts | UserRepository>) =>
  Effect.runPromise(Effect.provide(effect, useCasesLayer().layer))

const usd = Currency.make("USD")

describe("Accounts", () => {
  it("creates an account that does not allow a negative balance and has no metadata", async () => {
    const userId = await run(createUser)
    const account = await run(
      Accounts.use((accounts) => accounts.create(userId, { name: "Main", currency: usd })),
    )
    expect(account).toMatchObject({
      userId,
      name: "Main",
      currency: "USD",
      allowNegative: false,
      metadata: {},
    })
    expect(account.id).toMatch(/^acc_[0-9a-z]{26}$/)
    expect(account.createdAt).toBe(account.updatedAt)
  })

  it("keeps allowNegative and metadata when given", async () => {
    const userId = await run(createUser)
    const account = await run(
      Accounts.use((accounts) =>
        accounts.create(userId, {
          name: "Credit card",
          currency: usd,
          allowNegative: true,
          metadata: { bank: "ACME" },
        }),
      ),
    )
    expect(account).toMatchObject({ allowNegative: true, metadata: { bank: "ACME" } })
  })

  it("gets the owner's account", async () => {
    const userId = await run(createUser)
    const [created, found] = await run(
      Effect.gen(function* () {
        const accounts = yield* Accounts
        const created = yield* accounts.create(userId, { name: "Main", currency: usd })
        return [created, yield* accounts.get(userId, { id: created.id })] as const
      }),
    )
    expect(found).toEqual(created)
  })

  it("reports another user's account as not found", async () => {
    const error = await run(
      Effect.gen(function* () {
        const accounts = yield* Accounts
        const created = yield* accounts.create(yield* createUser, { name: "Theirs", currency: usd })
        return yield* Effect.flip(accounts.get(newUserId(), { id: created.id }))
      }),
    )
    expect(error).toMatchObject({ _tag: "NotFound", resource: "account" })
  })

  it("reports an unknown account as not found, naming its id", async () => {
    const id = newAccountId()
    const error = await run(
      Accounts.use((accounts) => Effect.flip(accounts.get(newUserId(), { id }))),
    )
    expect(error).toMatchObject({ _tag: "NotFound", resource: "account", id })
  })

  it("lists only the user's own accounts", async () => {
    const userId = await run(createUser)
    const page = await run(
      Effect.gen(function* () {
        const accounts = yield* Accounts
        yield* accounts.create(userId, { name: "Mine", currency: usd })
        yield* accounts.create(yield* createUser, { name: "Theirs", currency: usd })
        return yield* accounts.list(userId, {})
      }),
    )
    expect(page.items.map((account) => account.name)).toEqual(["Mine"])
    expect(page.hasMore).toBe(false)
  })
})
