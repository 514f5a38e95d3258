import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  balanceDeltas,
  balanceFigures,
  balanceLimit,
  balanceRefusal,
  type Direction,
  exactFigure,
  type StoredBalance,
} from "../src/index.ts"

const L = BigInt(balanceLimit)
const account = { id: "acc_limits", allowNegative: false }
const overdraft = { id: "acc_overdraft", allowNegative: true }
const stored = (posted: bigint, pendingCredits = 0n, pendingDebits = 0n): StoredBalance => ({
  posted,
  pendingCredits,
  pendingDebits,
})
const create = (direction: Direction, amount: number, status: "posted" | "pending" = "posted") =>
  balanceDeltas({ direction, amount }, null, status)

describe("balanceRefusal", () => {
  it("lets a credit bring posted plus pending credits exactly to 2^53-1, and not one unit past", () => {
    const before = stored(L - 10n, 4n)
    expect(balanceRefusal(account, before, create("credit", 6), 6)).toBeUndefined()
    expect(balanceRefusal(account, before, create("credit", 7), 7)).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: account.id,
      figure: "posted+pendingCredits",
      balance: balanceLimit - 6,
      requested: 7,
      limit: balanceLimit,
    })
    expect(balanceRefusal(account, before, create("credit", 7, "pending"), 7)).toMatchObject({
      figure: "posted+pendingCredits",
      balance: balanceLimit - 6,
      limit: balanceLimit,
    })
  })

  it("refuses the largest credit to an account already holding anything", () => {
    const refusal = balanceRefusal(
      account,
      stored(1n),
      create("credit", balanceLimit),
      balanceLimit,
    )
    expect(refusal?.message).toBe(
      `Account acc_limits cannot take a credit of ${balanceLimit}: its posted balance plus pending credits, 1, would pass ${balanceLimit} minor units, the most an account can hold`,
    )
  })

  it("refuses a debit taking available below -(2^53-1) on an account that may go negative", () => {
    const before = stored(-L + 10n, 0n, 5n)
    expect(balanceRefusal(overdraft, before, create("debit", 5, "pending"), 5)).toBeUndefined()
    for (const status of ["posted", "pending"] as const) {
      expect(balanceRefusal(overdraft, before, create("debit", 6, status), 6)).toMatchObject({
        _tag: "BalanceLimitExceeded",
        figure: "available",
        balance: -balanceLimit + 5,
        requested: 6,
        limit: -balanceLimit,
      })
    }
  })

  it("refuses pending credits or debits past 2^53-1 even where the sums stay in range", () => {
    expect(
      balanceRefusal(overdraft, stored(-100n, L - 50n), create("credit", 60, "pending"), 60),
    ).toMatchObject({ figure: "pendingCredits", balance: balanceLimit - 50, limit: balanceLimit })
    expect(
      balanceRefusal(overdraft, stored(100n, 0n, L - 50n), create("debit", 60, "pending"), 60),
    ).toMatchObject({ figure: "pendingDebits", balance: balanceLimit - 50, limit: balanceLimit })
  })

  it("reports insufficient funds, not a limit, on an account that may not go negative", () => {
    expect(balanceRefusal(account, stored(10n), create("debit", 11), 11)).toMatchObject({
      _tag: "InsufficientFunds",
      available: 10,
      requested: 11,
    })
  })
})

/** The bounds the database checks on every account row. */
const withinBounds = (b: StoredBalance) =>
  b.posted >= -L &&
  b.posted <= L &&
  b.pendingCredits >= 0n &&
  b.pendingCredits <= L &&
  b.pendingDebits >= 0n &&
  b.pendingDebits <= L &&
  b.posted + b.pendingCredits <= L &&
  b.posted - b.pendingDebits >= -L

const plus = (b: StoredBalance, d: ReturnType<typeof balanceDeltas>): StoredBalance => ({
  posted: b.posted + BigInt(d.posted),
  pendingCredits: b.pendingCredits + BigInt(d.pendingCredits),
  pendingDebits: b.pendingDebits + BigInt(d.pendingDebits),
})

const amount = fc.oneof(
  fc.integer({ min: 1, max: 1_000 }),
  fc.integer({ min: 1, max: balanceLimit }),
  fc.constant(balanceLimit),
)
const step = fc.oneof(
  fc.record({
    kind: fc.constant("create" as const),
    direction: fc.constantFrom<Direction>("credit", "debit"),
    status: fc.constantFrom("posted" as const, "pending" as const),
    amount,
  }),
  fc.record({
    kind: fc.constantFrom("post" as const, "void" as const),
    pick: fc.nat(),
  }),
)

describe("the balance bounds", () => {
  it("hold after any sequence of creates the rule lets through and any posts and voids of holds", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(step, { maxLength: 40 }), (allowNegative, steps) => {
        let balance = stored(0n)
        const holds: Array<{ direction: Direction; amount: number }> = []
        for (const s of steps) {
          if (s.kind === "create") {
            const deltas = create(s.direction, s.amount, s.status)
            const refusal = balanceRefusal({ id: "acc", allowNegative }, balance, deltas, s.amount)
            if (refusal !== undefined) continue
            balance = plus(balance, deltas)
            if (s.status === "pending") holds.push({ direction: s.direction, amount: s.amount })
          } else if (holds.length > 0) {
            // Never checked: posting, voiding or expiring a hold must always be possible.
            const [hold] = holds.splice(s.pick % holds.length, 1)
            balance = plus(
              balance,
              balanceDeltas(hold!, "pending", s.kind === "post" ? "posted" : "voided"),
            )
          }
          expect(withinBounds(balance)).toBe(true)
          const pending = balance.posted + balance.pendingCredits - balance.pendingDebits
          expect(exactFigure(pending)).not.toBeUndefined()
          expect(exactFigure(balance.posted - balance.pendingDebits)).not.toBeUndefined()
          if (!allowNegative) expect(balance.posted - balance.pendingDebits >= 0n).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe("exactFigure", () => {
  it("converts ±(2^53-1) exactly and refuses one unit beyond either way", () => {
    expect(exactFigure(L)).toBe(balanceLimit)
    expect(exactFigure(-L)).toBe(-balanceLimit)
    expect(exactFigure(L + 1n)).toBeUndefined()
    expect(exactFigure(-L - 1n)).toBeUndefined()
  })
})

describe("balanceFigures", () => {
  it("shows pending as posted plus pending credits less pending debits, and available as posted less pending debits, exactly", () => {
    expect(balanceFigures(stored(L, L, 2n * L))).toEqual({
      posted: L,
      pending: 0n,
      available: -L,
    })
    expect(balanceFigures(stored(-5n, 7n, 3n))).toEqual({
      posted: -5n,
      pending: -1n,
      available: -8n,
    })
  })
})
