import {
  type AccountId,
  Accounts,
  type CreateTransaction,
  Currency,
  newAccountId,
  newTransactionId,
  newUserId,
  Transactions,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { createUser, useCasesLayer } from "../fixtures.ts"

const usd = Currency.make("USD")
const eur = Currency.make("EUR")

/** Runs `body` with one USD account of a new user. */
const withAccount = async <A, E>(
  body: (
    transactions: Transactions["Service"],
    owner: { readonly userId: UserId; readonly accountId: AccountId },
  ) => Effect.Effect<A, E, Accounts>,
) => {
  const { layer, scheduled } = useCasesLayer()
  const { result, accountId } = await Effect.runPromise(
    Effect.gen(function* () {
      const userId = yield* createUser
      const account = yield* Accounts.use((accounts) =>
        accounts.create(userId, { name: "Main", currency: usd, allowNegative: true }),
      )
      const transactions = yield* Transactions
      const result = yield* body(transactions, { userId, accountId: account.id })
      return { result, accountId: account.id }
    }).pipe(Effect.provide(layer)),
  )
  return { result, accountId, scheduled }
}

const debit = (
  accountId: AccountId,
  extra: Partial<CreateTransaction> = {},
): CreateTransaction => ({
  accountId,
  direction: "debit",
  amount: 1250,
  currency: usd,
  ...extra,
})

const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000).toISOString()

describe("Transactions.create", () => {
  it("posts a transaction by default, at version 1", async () => {
    const { result, scheduled } = await withAccount((transactions, { userId, accountId }) =>
      transactions.create(userId, debit(accountId)),
    )
    expect(result).toMatchObject({
      status: "posted",
      version: 1,
      amount: 1250,
      currency: "USD",
      description: null,
      expiresAt: null,
      metadata: {},
    })
    expect(result.id).toMatch(/^txn_[0-9a-z]{26}$/)
    expect(scheduled).toEqual([])
  })

  it("schedules a pending hold to expire at its expiresAt, once", async () => {
    const expiresAt = inAnHour()
    const { result, scheduled } = await withAccount((transactions, { userId, accountId }) =>
      transactions.create(userId, debit(accountId, { status: "pending", expiresAt })),
    )
    expect(result).toMatchObject({ status: "pending", expiresAt })
    expect(scheduled).toEqual([{ id: result.id, expiresAt: new Date(expiresAt) }])
  })

  it("records times in UTC at millisecond precision, as they are read back and paged", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      transactions.create(
        userId,
        debit(accountId, {
          status: "pending",
          occurredAt: "2026-03-01T09:30:00.123+02:00",
          expiresAt: "2999-01-01T01:00:00.987000+01:00",
        }),
      ),
    )
    expect(result.occurredAt).toBe("2026-03-01T07:30:00.123Z")
    expect(result.expiresAt).toBe("2999-01-01T00:00:00.987Z")
  })

  it("does not schedule a pending hold without expiresAt", async () => {
    const { result, scheduled } = await withAccount((transactions, { userId, accountId }) =>
      transactions.create(userId, debit(accountId, { status: "pending" })),
    )
    expect(result.status).toBe("pending")
    expect(scheduled).toEqual([])
  })

  it("reports an unknown account as not found", async () => {
    const unknown = newAccountId()
    const { result } = await withAccount((transactions, { userId }) =>
      Effect.flip(transactions.create(userId, debit(unknown))),
    )
    expect(result).toMatchObject({ _tag: "NotFound", resource: "account", id: unknown })
  })

  it("reports another user's account as not found", async () => {
    const { result, accountId } = await withAccount((transactions, { accountId }) =>
      Effect.flip(transactions.create(newUserId(), debit(accountId))),
    )
    expect(result).toMatchObject({ _tag: "NotFound", resource: "account", id: accountId })
  })

  it("rejects a currency other than the account's, naming both", async () => {
    const { result, accountId } = await withAccount((transactions, { userId, accountId }) =>
      Effect.flip(transactions.create(userId, debit(accountId, { currency: eur }))),
    )
    expect(result).toMatchObject({
      _tag: "CurrencyMismatch",
      accountId,
      accountCurrency: "USD",
      currency: "EUR",
    })
    expect(result.message).toContain("USD")
    expect(result.message).toContain("EUR")
  })

  it("rejects an expiresAt in the past", async () => {
    const expiresAt = new Date(Date.now() - 1000).toISOString()
    const { result, scheduled } = await withAccount((transactions, { userId, accountId }) =>
      Effect.flip(transactions.create(userId, debit(accountId, { status: "pending", expiresAt }))),
    )
    expect(result).toMatchObject({ _tag: "ValidationError" })
    expect(result._tag === "ValidationError" && result.issues.map((i) => i.path)).toEqual([
      ["expiresAt"],
    ])
    expect(scheduled).toEqual([])
  })

  it("stores nothing when it fails", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        yield* Effect.flip(transactions.create(userId, debit(accountId, { currency: eur })))
        return yield* transactions.list(userId, {})
      }),
    )
    expect(result.items).toEqual([])
  })
})

describe("Transactions.createMany", () => {
  it("schedules each pending item with expiresAt once, and answers the items in input order", async () => {
    const expiresAt = inAnHour()
    const { result, scheduled } = await withAccount((transactions, { userId, accountId }) =>
      transactions.createMany(userId, {
        transactions: [
          debit(accountId, { description: "first" }),
          debit(accountId, { status: "pending", expiresAt, description: "second" }),
          debit(accountId, { status: "pending", description: "third" }),
        ],
      }),
    )
    expect(result.transactions.map((t) => t.description)).toEqual(["first", "second", "third"])
    expect(scheduled).toEqual([{ id: result.transactions[1]?.id, expiresAt: new Date(expiresAt) }])
  })

  it("refuses the batch for every expiresAt already past, naming each item's index", async () => {
    const past = new Date(Date.now() - 1000).toISOString()
    const { result, scheduled } = await withAccount((transactions, { userId, accountId }) =>
      Effect.flip(
        transactions.createMany(userId, {
          transactions: [
            debit(accountId, { status: "pending", expiresAt: past }),
            debit(accountId),
            debit(accountId, { status: "pending", expiresAt: past }),
          ],
        }),
      ),
    )
    expect(result).toMatchObject({
      _tag: "ValidationError",
      issues: [
        { path: ["transactions", 0, "expiresAt"] },
        { path: ["transactions", 2, "expiresAt"] },
      ],
    })
    expect(scheduled).toEqual([])
  })

  it("refuses the batch with the first item's error and lists every refused item", async () => {
    const unknown = newAccountId()
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.flip(
        transactions.createMany(userId, {
          transactions: [
            debit(accountId),
            debit(accountId, { currency: eur }),
            debit(unknown),
            debit(accountId),
          ],
        }),
      ),
    )
    expect(result).toMatchObject({
      _tag: "CurrencyMismatch",
      accountId: expect.any(String),
      index: 1,
      field: "currency",
      failures: [
        { index: 1, field: "currency", tag: "CurrencyMismatch" },
        { index: 2, field: "accountId", tag: "NotFound" },
      ],
    })
    expect(result.message).toMatch(/^transactions\.1\.currency: /)
  })
})

describe("Transactions.get", () => {
  it("returns a created transaction to its owner", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const created = yield* transactions.create(userId, debit(accountId))
        return { created, found: yield* transactions.get(userId, { id: created.id }) }
      }),
    )
    expect(result.found).toEqual(result.created)
  })

  it("reports an unknown id as not found", async () => {
    const id = newTransactionId()
    const { result } = await withAccount((transactions, { userId }) =>
      Effect.flip(transactions.get(userId, { id })),
    )
    expect(result).toMatchObject({ _tag: "NotFound", resource: "transaction", id })
  })

  it("reports another user's transaction as not found", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const created = yield* transactions.create(userId, debit(accountId))
        return yield* Effect.flip(transactions.get(newUserId(), { id: created.id }))
      }),
    )
    expect(result).toMatchObject({ _tag: "NotFound", resource: "transaction" })
  })
})

describe("Transactions.update", () => {
  it("changes descriptive fields and bumps the version", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const created = yield* transactions.create(
          userId,
          debit(accountId, { description: "Coffee", category: "food" }),
        )
        return yield* transactions.update(userId, {
          id: created.id,
          expectedVersion: 1,
          description: null,
          counterparty: "Cafe",
        })
      }),
    )
    expect(result).toMatchObject({
      version: 2,
      description: null,
      category: "food",
      counterparty: "Cafe",
    })
  })

  it("rejects an update that changes no field", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const created = yield* transactions.create(userId, debit(accountId))
        return [
          yield* Effect.flip(transactions.update(userId, { id: created.id, expectedVersion: 1 })),
          yield* transactions.get(userId, { id: created.id }),
        ] as const
      }),
    )
    const [versionOnly, after] = result
    expect(versionOnly).toMatchObject({ _tag: "ValidationError" })
    expect(after.version).toBe(1)
  })

  it("rejects a stale expectedVersion, reporting the current version", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const created = yield* transactions.create(userId, debit(accountId))
        yield* transactions.update(userId, {
          id: created.id,
          expectedVersion: 1,
          description: "first",
        })
        const error = yield* Effect.flip(
          transactions.update(userId, { id: created.id, expectedVersion: 1, description: "late" }),
        )
        return { id: created.id, error, after: yield* transactions.get(userId, { id: created.id }) }
      }),
    )
    expect(result.error).toMatchObject({
      _tag: "VersionConflict",
      id: result.id,
      expectedVersion: 1,
      currentVersion: 2,
    })
    expect(result.after).toMatchObject({ version: 2, description: "first" })
  })

  it("reports another user's transaction as not found rather than as a conflict", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const created = yield* transactions.create(userId, debit(accountId))
        return yield* Effect.flip(
          transactions.update(newUserId(), { id: created.id, expectedVersion: 1, category: "x" }),
        )
      }),
    )
    expect(result).toMatchObject({ _tag: "NotFound", resource: "transaction" })
  })
})

describe("Transactions.summary", () => {
  it("refuses totals beyond 2^53-1 rather than returning an inexact number", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        // Each account holds at most 2^53-1, so the largest totals span two accounts.
        const other = yield* Accounts.use((accounts) =>
          accounts.create(userId, { name: "Second", currency: usd }),
        )
        const huge = { direction: "credit" as const, amount: Number.MAX_SAFE_INTEGER }
        yield* transactions.create(userId, debit(accountId, huge))
        yield* transactions.create(userId, debit(other.id, huge))
        return yield* Effect.flip(
          transactions.summary(userId, {
            groupBy: "month",
            occurredFrom: "2000-01-01T00:00:00Z",
            occurredTo: "2100-01-01T00:00:00Z",
          }),
        )
      }),
    )
    expect(result._tag).toBe("ValidationError")
  })

  it("counts posted transactions only, per currency group", async () => {
    const { result } = await withAccount((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        yield* transactions.create(userId, debit(accountId, { category: "food" }))
        yield* transactions.create(
          userId,
          debit(accountId, { category: "food", status: "pending" }),
        )
        return yield* transactions.summary(userId, {
          groupBy: "category",
          occurredFrom: "2000-01-01T00:00:00Z",
          occurredTo: "2100-01-01T00:00:00Z",
        })
      }),
    )
    expect(result.groups).toEqual([
      { key: "food", currency: "USD", credits: 0, debits: 1250, net: -1250, count: 1 },
    ])
  })
})
