import {
  type AccountId,
  Accounts,
  type BalanceLimitExceeded,
  Currency,
  type InsufficientFunds,
  type InvalidStateTransition,
  type NotFound,
  newTransactionId,
  newUserId,
  type Transaction,
  Transactions,
  type UserId,
  type VersionConflict,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { createUser, useCasesLayer } from "../fixtures.ts"

const usd = Currency.make("USD")
const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000).toISOString()

/** Runs `body` with one USD account of a new user. */
const run = <A, E>(
  body: (
    transactions: Transactions["Service"],
    owner: { readonly userId: UserId; readonly accountId: AccountId },
  ) => Effect.Effect<A, E>,
) => {
  return Effect.runPromise(
    Effect.gen(function* () {
      const userId = yield* createUser
      const account = yield* Accounts.use((accounts) =>
        accounts.create(userId, { name: "Main", currency: usd, allowNegative: true }),
      )
      return yield* body(yield* Transactions, { userId, accountId: account.id })
    }).pipe(Effect.provide(useCasesLayer().layer)),
  )
}

const create =
  (status: "pending" | "posted") =>
  (transactions: Transactions["Service"], userId: UserId, accountId: AccountId) =>
    transactions.create(userId, {
      accountId,
      direction: "debit",
      amount: 900,
      currency: usd,
      status,
      ...(status === "pending" ? { expiresAt: inAnHour() } : {}),
    })

type Op = "post" | "void" | "reverse"
type Refusal =
  | NotFound
  | VersionConflict
  | InvalidStateTransition
  | InsufficientFunds
  | BalanceLimitExceeded
const apply = (
  transactions: Transactions["Service"],
  userId: UserId,
  op: Op,
  t: Transaction,
): Effect.Effect<unknown, Refusal> =>
  op === "reverse"
    ? transactions.reverse(userId, { id: t.id, expectedVersion: t.version })
    : transactions[op](userId, { id: t.id, expectedVersion: t.version })
const stale = (transactions: Transactions["Service"], userId: UserId, op: Op, t: Transaction) =>
  apply(transactions, userId, op, { ...t, version: t.version + 3 })

describe("Transactions lifecycle use cases", () => {
  it.each(["post", "void", "reverse"] as const)(
    "%s answers NotFound for an unknown id and for another user's transaction",
    async (op) => {
      const errors = await run((transactions, { userId, accountId }) =>
        Effect.gen(function* () {
          const posted = yield* create("posted")(transactions, userId, accountId)
          const pending = yield* create("pending")(transactions, userId, accountId)
          const ghost = { ...posted, id: newTransactionId() }
          return [
            yield* Effect.flip(apply(transactions, userId, op, ghost)),
            yield* Effect.flip(apply(transactions, newUserId(), op, posted)),
            yield* Effect.flip(apply(transactions, newUserId(), op, pending)),
          ]
        }),
      )
      expect(errors.map((e) => e._tag)).toEqual(["NotFound", "NotFound", "NotFound"])
      expect(errors[0]).toMatchObject({ resource: "transaction" })
      expect(errors[0]!.message).toMatch(/^No transaction with id txn_/)
    },
  )

  it("posts and voids pending transactions, clearing expiresAt only when posting", async () => {
    const [posted, voided] = await run((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const a = yield* create("pending")(transactions, userId, accountId)
        const b = yield* create("pending")(transactions, userId, accountId)
        return [
          yield* transactions.post(userId, { id: a.id, expectedVersion: 1 }),
          yield* transactions.void(userId, { id: b.id, expectedVersion: 1 }),
        ]
      }),
    )
    expect(posted).toMatchObject({ status: "posted", version: 2, expiresAt: null })
    expect(voided).toMatchObject({ status: "voided", version: 2 })
    expect(voided!.expiresAt).not.toBeNull()
  })

  it("reverses a posted transaction by an opposite posted one, linked both ways", async () => {
    const { original, reversal, before } = await run((transactions, { userId, accountId }) =>
      Effect.gen(function* () {
        const before = yield* create("posted")(transactions, userId, accountId)
        const result = yield* transactions.reverse(userId, { id: before.id, expectedVersion: 1 })
        return { ...result, before }
      }),
    )
    expect(original).toMatchObject({
      id: before.id,
      status: "reversed",
      version: 2,
      reversedBy: reversal.id,
    })
    expect(reversal).toMatchObject({
      accountId: before.accountId,
      amount: 900,
      currency: usd,
      direction: "credit",
      status: "posted",
      version: 1,
      reversalOf: before.id,
      reversedBy: null,
      description: `Reversal of ${before.id}`,
    })
  })

  it.each([
    ["pending", "reverse", "reversed"],
    ["posted", "post", "posted"],
    ["posted", "void", "voided"],
  ] as const)(
    "a %s transaction refuses %s with InvalidStateTransition naming from and to",
    async (status, op, to) => {
      const { error, t } = await run((transactions, { userId, accountId }) =>
        Effect.gen(function* () {
          const t = yield* create(status)(transactions, userId, accountId)
          return { t, error: yield* Effect.flip(apply(transactions, userId, op, t)) }
        }),
      )
      expect(error).toMatchObject({ _tag: "InvalidStateTransition", id: t.id, from: status, to })
      expect(error.message).toBe(`Transaction ${t.id} is ${status}; it cannot become ${to}`)
    },
  )

  it.each(["post", "void", "reverse"] as const)(
    "%s with a stale version answers VersionConflict even where the state forbids it too",
    async (op) => {
      const errors = await run((transactions, { userId, accountId }) =>
        Effect.gen(function* () {
          const pending = yield* create("pending")(transactions, userId, accountId)
          const posted = yield* create("posted")(transactions, userId, accountId)
          const toVoid = yield* create("pending")(transactions, userId, accountId)
          const voided = yield* transactions.void(userId, { id: toVoid.id, expectedVersion: 1 })
          const toReverse = yield* create("posted")(transactions, userId, accountId)
          const { original, reversal } = yield* transactions.reverse(userId, {
            id: toReverse.id,
            expectedVersion: 1,
          })
          return yield* Effect.forEach([pending, posted, voided, original, reversal], (t) =>
            Effect.flip(stale(transactions, userId, op, t)).pipe(
              Effect.map((error) => ({ error, t })),
            ),
          )
        }),
      )
      for (const { error, t } of errors) {
        expect(error).toMatchObject({
          _tag: "VersionConflict",
          id: t.id,
          expectedVersion: t.version + 3,
          currentVersion: t.version,
        })
        expect(error.message).toBe(
          `Transaction ${t.id} is at version ${t.version}, not ${t.version + 3}`,
        )
      }
    },
  )

  it("refuses to reverse a reversal, or a reversed transaction again", async () => {
    const { reversal, original, ofReversal, again } = await run(
      (transactions, { userId, accountId }) =>
        Effect.gen(function* () {
          const posted = yield* create("posted")(transactions, userId, accountId)
          const { original, reversal } = yield* transactions.reverse(userId, {
            id: posted.id,
            expectedVersion: 1,
          })
          return {
            original,
            reversal,
            ofReversal: yield* Effect.flip(
              transactions.reverse(userId, { id: reversal.id, expectedVersion: 1 }),
            ),
            again: yield* Effect.flip(
              transactions.reverse(userId, { id: original.id, expectedVersion: 2 }),
            ),
          }
        }),
    )
    expect(ofReversal).toMatchObject({
      _tag: "InvalidStateTransition",
      id: reversal.id,
      from: "posted",
      to: "reversed",
      message: `Transaction ${reversal.id} is itself a reversal and cannot be reversed`,
    })
    expect(again).toMatchObject({
      _tag: "InvalidStateTransition",
      id: original.id,
      from: "reversed",
      to: "reversed",
      message: `Transaction ${original.id} is reversed; it cannot become reversed`,
    })
  })
})
