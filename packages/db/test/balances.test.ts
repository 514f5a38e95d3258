import {
  type Account,
  AccountRepository,
  Actor,
  type ExactBalance,
  type Transaction,
  type TransactionId,
  TransactionRepository,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import type * as SqlError from "effect/sql/SqlError"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  accountOf,
  createUser,
  insertAccount,
  makeRuntime,
  outcome,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

const withActor = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provideService(Actor, "key_balances"))

const newAccount = async (fields: Partial<Account> = {}) => {
  const userId = await runtime.runPromise(createUser)
  return runtime.runPromise(insertAccount(accountOf(userId, fields)))
}

const insert = (transaction: Transaction) =>
  runtime.runPromise(withActor(TransactionRepository.use((r) => r.insert(transaction))))

/** The failure of an insert the repository refuses. */
const refused = (transaction: Transaction) =>
  runtime.runPromise(
    withActor(TransactionRepository.use((r) => r.insert(transaction))).pipe(Effect.flip),
  )

const transition = (
  account: Account,
  id: TransactionId,
  expectedVersion: number,
  to: "posted" | "voided",
  now: Date,
) =>
  runtime.runPromise(
    withActor(
      TransactionRepository.use((r) => r.transition(account.userId, id, expectedVersion, to, now)),
    ),
  )

const reverse = (account: Account, original: Transaction, now: Date) =>
  runtime.runPromise(
    withActor(
      TransactionRepository.use((r) =>
        r.reverse(
          account.userId,
          original.version,
          transactionOf(account, {
            direction: original.direction === "debit" ? "credit" : "debit",
            amount: original.amount,
            status: "posted",
            reversalOf: original.id,
            occurredAt: now.toISOString(),
            createdAt: now.toISOString(),
            updatedAt: now.toISOString(),
          }),
          now,
        ),
      ),
    ),
  )

const expire = (id: TransactionId, now: Date) =>
  runtime.runPromise(withActor(TransactionRepository.use((r) => r.expire(id, now))))

const balanceOf = async (account: Account, asOf?: Date) =>
  Option.getOrThrow(
    await runtime.runPromise(
      AccountRepository.use((r) => r.balance(account.userId as UserId, account.id, asOf)),
    ),
  )

/** Small figures as numbers, for comparing with literals. */
const figures = (balance: ExactBalance) => ({
  posted: Number(balance.posted),
  pending: Number(balance.pending),
  available: Number(balance.available),
})

const credit = (account: Account, amount: number, fields: Partial<Transaction> = {}) =>
  insert(transactionOf(account, { direction: "credit", amount, ...fields }))

const ledgerOf = (account: Account) =>
  runtime
    .runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{
          readonly entries: string
          readonly posted: string
          readonly pendingCredits: string
          readonly pendingDebits: string
        }>`
        select count(*)::text as entries,
               coalesce(sum(posted_delta), 0)::text as posted,
               coalesce(sum(pending_credits_delta), 0)::text as pending_credits,
               coalesce(sum(pending_debits_delta), 0)::text as pending_debits
          from ledger_entries where account_id = ${account.id}`,
      ),
    )
    .then(([row]) => ({
      entries: Number(row!.entries),
      posted: Number(row!.posted),
      pendingCredits: Number(row!.pendingCredits),
      pendingDebits: Number(row!.pendingDebits),
    }))

const storedOf = (account: Account) =>
  runtime
    .runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{
          readonly postedBalance: string
          readonly pendingCredits: string
          readonly pendingDebits: string
        }>`
        select posted_balance::text as posted_balance, pending_credits::text as pending_credits,
               pending_debits::text as pending_debits
          from accounts where id = ${account.id}`,
      ),
    )
    .then(([row]) => ({
      posted: Number(row!.postedBalance),
      pendingCredits: Number(row!.pendingCredits),
      pendingDebits: Number(row!.pendingDebits),
    }))

const transactionCount = (account: Account) =>
  runtime
    .runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly n: string }>`
          select count(*)::text as n from transactions where account_id = ${account.id}`,
      ),
    )
    .then(([row]) => Number(row!.n))

describe("balances after each change", () => {
  it("starts at zero", async () => {
    const account = await newAccount()
    const balance = await balanceOf(account)
    expect(balance).toEqual({
      accountId: account.id,
      currency: account.currency,
      posted: 0n,
      pending: 0n,
      available: 0n,
      asOf: null,
    })
  })

  it("moves posted by a posted credit and a posted debit", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 1_000,
      available: 1_000,
    })
    await insert(transactionOf(account, { direction: "debit", amount: 400 }))
    expect(figures(await balanceOf(account))).toEqual({ posted: 600, pending: 600, available: 600 })
  })

  it("holds a pending debit out of available and counts a pending credit only in pending", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    await insert(transactionOf(account, { direction: "debit", amount: 300, status: "pending" }))
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 700,
      available: 700,
    })
    await credit(account, 250, { status: "pending" })
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 950,
      available: 700,
    })
  })

  it("settles pending transactions into posted when they are posted", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    const debit = await insert(
      transactionOf(account, { direction: "debit", amount: 300, status: "pending" }),
    )
    const incoming = await credit(account, 250, { status: "pending" })
    const now = new Date("2026-02-01T00:00:00.000Z")
    expect((await transition(account, debit.id, 1, "posted", now))._tag).toBe("Done")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 700,
      pending: 950,
      available: 700,
    })
    expect((await transition(account, incoming.id, 1, "posted", now))._tag).toBe("Done")
    expect(figures(await balanceOf(account))).toEqual({ posted: 950, pending: 950, available: 950 })
  })

  it("releases pending transactions when they are voided", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    const debit = await insert(
      transactionOf(account, { direction: "debit", amount: 300, status: "pending" }),
    )
    const incoming = await credit(account, 250, { status: "pending" })
    const now = new Date("2026-02-01T00:00:00.000Z")
    expect((await transition(account, debit.id, 1, "voided", now))._tag).toBe("Done")
    expect((await transition(account, incoming.id, 1, "voided", now))._tag).toBe("Done")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 1_000,
      available: 1_000,
    })
  })

  it("changes nothing for a refused transition", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    const debit = await insert(
      transactionOf(account, { direction: "debit", amount: 300, status: "pending" }),
    )
    const now = new Date("2026-02-01T00:00:00.000Z")
    expect((await transition(account, debit.id, 2, "posted", now))._tag).toBe("Refused")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 700,
      available: 700,
    })
    expect((await ledgerOf(account)).entries).toBe(2)
  })

  it("releases a pending debit when it expires, and only once", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    const debit = await insert(
      transactionOf(account, {
        direction: "debit",
        amount: 300,
        status: "pending",
        expiresAt: "2026-01-20T00:00:00.000Z",
      }),
    )
    expect(await expire(debit.id, new Date("2026-01-19T00:00:00.000Z"))).toBe("notDue")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 700,
      available: 700,
    })
    expect(await expire(debit.id, new Date("2026-01-21T00:00:00.000Z"))).toBe("voided")
    expect(await expire(debit.id, new Date("2026-01-22T00:00:00.000Z"))).toBe("notPending")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 1_000,
      available: 1_000,
    })
  })

  it("cancels a posted debit and a posted credit by their reversals", async () => {
    const account = await newAccount()
    const funding = await credit(account, 1_000)
    const debit = await insert(transactionOf(account, { direction: "debit", amount: 400 }))
    const now = new Date("2026-02-01T00:00:00.000Z")
    expect((await reverse(account, debit, now))._tag).toBe("Done")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 1_000,
      pending: 1_000,
      available: 1_000,
    })
    expect((await reverse(account, funding, now))._tag).toBe("Done")
    expect(figures(await balanceOf(account))).toEqual({ posted: 0, pending: 0, available: 0 })
  })
})

describe("insufficient funds", () => {
  it("refuses a posted debit beyond available, writing nothing", async () => {
    const account = await newAccount()
    await credit(account, 500)
    const debit = transactionOf(account, { direction: "debit", amount: 501 })
    const error = await refused(debit)
    expect(error).toMatchObject({
      _tag: "InsufficientFunds",
      accountId: account.id,
      available: 500,
      requested: 501,
    })
    expect(await transactionCount(account)).toBe(1)
    expect((await ledgerOf(account)).entries).toBe(1)
    expect(figures(await balanceOf(account))).toEqual({ posted: 500, pending: 500, available: 500 })
    const found = await runtime.runPromise(
      TransactionRepository.use((r) => r.findById(account.userId, debit.id)),
    )
    expect(Option.isNone(found)).toBe(true)
  })

  it("refuses a hold beyond available, counting earlier holds, writing nothing", async () => {
    const account = await newAccount()
    await credit(account, 500)
    await insert(transactionOf(account, { direction: "debit", amount: 200, status: "pending" }))
    const error = await refused(
      transactionOf(account, { direction: "debit", amount: 301, status: "pending" }),
    )
    expect(error).toMatchObject({
      _tag: "InsufficientFunds",
      accountId: account.id,
      available: 300,
      requested: 301,
    })
    expect(await transactionCount(account)).toBe(2)
    expect((await ledgerOf(account)).entries).toBe(2)
    expect(await storedOf(account)).toEqual({ posted: 500, pendingCredits: 0, pendingDebits: 200 })
  })

  it("lets a debit spend exactly what is available", async () => {
    const account = await newAccount()
    await credit(account, 500)
    await insert(transactionOf(account, { direction: "debit", amount: 500 }))
    expect(figures(await balanceOf(account))).toEqual({ posted: 0, pending: 0, available: 0 })
  })

  it("does not count a pending credit as available", async () => {
    const account = await newAccount()
    await credit(account, 500, { status: "pending" })
    const error = await refused(transactionOf(account, { direction: "debit", amount: 1 }))
    expect(error).toMatchObject({ _tag: "InsufficientFunds", available: 0, requested: 1 })
  })

  it("refuses the reversal of a credit that has been spent, changing nothing", async () => {
    const account = await newAccount()
    const funding = await credit(account, 500)
    await insert(transactionOf(account, { direction: "debit", amount: 300 }))
    const error = await runtime.runPromise(
      withActor(
        TransactionRepository.use((r) =>
          r.reverse(
            account.userId,
            1,
            transactionOf(account, { direction: "debit", amount: 500, reversalOf: funding.id }),
            new Date("2026-02-01T00:00:00.000Z"),
          ),
        ),
      ).pipe(Effect.flip),
    )
    expect(error).toMatchObject({ _tag: "InsufficientFunds", available: 200, requested: 500 })
    const original = await runtime.runPromise(
      TransactionRepository.use((r) => r.findById(account.userId, funding.id)),
    )
    expect(Option.getOrThrow(original)).toMatchObject({ status: "posted", version: 1 })
    expect(await transactionCount(account)).toBe(2)
    expect(figures(await balanceOf(account))).toEqual({ posted: 200, pending: 200, available: 200 })
  })

  it("lets an account that may go negative go negative", async () => {
    const account = await newAccount({ allowNegative: true })
    await insert(transactionOf(account, { direction: "debit", amount: 700 }))
    await insert(transactionOf(account, { direction: "debit", amount: 100, status: "pending" }))
    expect(figures(await balanceOf(account))).toEqual({
      posted: -700,
      pending: -800,
      available: -800,
    })
  })
})

describe("balance as of a past time", () => {
  it("sums the ledger up to that time, inclusive", async () => {
    const account = await newAccount()
    await credit(account, 1_000, {
      createdAt: "2026-01-10T00:00:00.000Z",
      updatedAt: "2026-01-10T00:00:00.000Z",
    })
    const hold = await insert(
      transactionOf(account, {
        direction: "debit",
        amount: 300,
        status: "pending",
        createdAt: "2026-01-20T00:00:00.000Z",
        updatedAt: "2026-01-20T00:00:00.000Z",
      }),
    )
    await transition(account, hold.id, 1, "posted", new Date("2026-01-30T00:00:00.000Z"))
    const asOf = async (iso: string) => {
      const balance = await balanceOf(account, new Date(iso))
      expect(balance.asOf).toBe(iso)
      return figures(balance)
    }
    expect(await asOf("2026-01-09T23:59:59.999Z")).toEqual({ posted: 0, pending: 0, available: 0 })
    expect(await asOf("2026-01-10T00:00:00.000Z")).toEqual({
      posted: 1_000,
      pending: 1_000,
      available: 1_000,
    })
    expect(await asOf("2026-01-25T00:00:00.000Z")).toEqual({
      posted: 1_000,
      pending: 700,
      available: 700,
    })
    expect(await asOf("2026-01-30T00:00:00.000Z")).toEqual({
      posted: 700,
      pending: 700,
      available: 700,
    })
    expect(figures(await balanceOf(account))).toEqual({ posted: 700, pending: 700, available: 700 })
  })

  it("answers none for another user's account", async () => {
    const account = await newAccount()
    const other = await runtime.runPromise(createUser)
    for (const asOf of [undefined, new Date("2026-01-10T00:00:00.000Z")]) {
      const balance = await runtime.runPromise(
        AccountRepository.use((r) => r.balance(other, account.id, asOf)),
      )
      expect(Option.isNone(balance)).toBe(true)
    }
  })
})

describe("the ledger", () => {
  it("sums to the stored balance after a mixed sequence", async () => {
    const account = await newAccount()
    const now = new Date("2026-02-01T00:00:00.000Z")
    const funding = await credit(account, 5_000)
    await insert(transactionOf(account, { direction: "debit", amount: 1_200 }))
    const held = await insert(
      transactionOf(account, { direction: "debit", amount: 700, status: "pending" }),
    )
    const voided = await insert(
      transactionOf(account, { direction: "debit", amount: 300, status: "pending" }),
    )
    const incoming = await credit(account, 450, { status: "pending" })
    const stays = await credit(account, 80, { status: "pending" })
    const expiring = await insert(
      transactionOf(account, {
        direction: "debit",
        amount: 90,
        status: "pending",
        expiresAt: "2026-01-20T00:00:00.000Z",
      }),
    )
    const spent = await insert(transactionOf(account, { direction: "debit", amount: 250 }))
    await transition(account, held.id, 1, "posted", now)
    await transition(account, voided.id, 1, "voided", now)
    await transition(account, incoming.id, 1, "posted", now)
    await expire(expiring.id, now)
    await reverse(account, spent, now)
    await refused(transactionOf(account, { direction: "debit", amount: 1_000_000 }))

    const stored = await storedOf(account)
    // 5000 - 1200 - 700 + 450 - 250 + 250; pending: the 80 credit alone.
    expect(stored).toEqual({ posted: 3_550, pendingCredits: 80, pendingDebits: 0 })
    const ledger = await ledgerOf(account)
    expect({
      posted: ledger.posted,
      pendingCredits: ledger.pendingCredits,
      pendingDebits: ledger.pendingDebits,
    }).toEqual(stored)
    // 8 inserts + 1 reversal, then 2 posts, a void and an expiry.
    expect(ledger.entries).toBe(13)
    expect(funding.status).toBe("posted")
    expect(stays.status).toBe("pending")
    expect(figures(await balanceOf(account))).toEqual({
      posted: 3_550,
      pending: 3_630,
      available: 3_550,
    })
  })
})

describe("the database's own guard", () => {
  it("rejects a raw update leaving a non-negative account's available below zero", async () => {
    const account = await newAccount()
    await credit(account, 100)
    const rejected = {
      rejected: true,
      code: "23514",
      constraint: "accounts_available_check",
    }
    expect(
      await outcome(
        runtime,
        SqlClient.SqlClient.use(
          (sql) => sql`update accounts set posted_balance = -1 where id = ${account.id}`,
        ),
      ),
    ).toEqual(rejected)
    expect(
      await outcome(
        runtime,
        SqlClient.SqlClient.use(
          (sql) => sql`update accounts set pending_debits = 101 where id = ${account.id}`,
        ),
      ),
    ).toEqual(rejected)
    expect(
      await outcome(
        runtime,
        SqlClient.SqlClient.use(
          (sql) => sql`update accounts set pending_debits = 100 where id = ${account.id}`,
        ),
      ),
    ).toEqual({ rejected: false })
    expect(await storedOf(account)).toEqual({ posted: 100, pendingCredits: 0, pendingDebits: 100 })
  })

  it("lets an account that may go negative hold a negative balance", async () => {
    const account = await newAccount({ allowNegative: true })
    expect(
      await outcome(
        runtime,
        SqlClient.SqlClient.use(
          (sql) => sql`update accounts set posted_balance = -1 where id = ${account.id}`,
        ),
      ),
    ).toEqual({ rejected: false })
  })
})

describe("the database's own guard on balance limits", () => {
  const raw = (
    statement: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, SqlError.SqlError>,
  ) => outcome(runtime, SqlClient.SqlClient.use(statement))

  it("rejects posted plus pending credits beyond 2^53-1, each column in range", async () => {
    const account = await newAccount()
    expect(
      await raw(
        (sql) => sql`update accounts set posted_balance = 9007199254740987, pending_credits = 5
                      where id = ${account.id}`,
      ),
    ).toEqual({ rejected: true, code: "23514", constraint: "accounts_balance_upper_limit_check" })
    expect(
      await raw(
        (sql) => sql`update accounts set posted_balance = 9007199254740987, pending_credits = 4
                      where id = ${account.id}`,
      ),
    ).toEqual({ rejected: false })
  })

  it("rejects available below -(2^53-1) on an account that may go negative", async () => {
    const account = await newAccount({ allowNegative: true })
    expect(
      await raw(
        (sql) => sql`update accounts set posted_balance = -9007199254740987, pending_debits = 5
                      where id = ${account.id}`,
      ),
    ).toEqual({ rejected: true, code: "23514", constraint: "accounts_balance_lower_limit_check" })
    expect(
      await raw(
        (sql) => sql`update accounts set posted_balance = -9007199254740987, pending_debits = 4
                      where id = ${account.id}`,
      ),
    ).toEqual({ rejected: false })
  })
})

describe("concurrent debits", () => {
  it("of 20 debits of 100 against 1000, exactly 10 succeed and the balance never goes negative", async () => {
    const account = await newAccount()
    await credit(account, 1_000)
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        runtime.runPromise(
          withActor(
            TransactionRepository.use((r) =>
              r.insert(transactionOf(account, { direction: "debit", amount: 100 })),
            ),
          ).pipe(Effect.result),
        ),
      ),
    )
    const succeeded = results.filter((r) => r._tag === "Success")
    const failed = results.filter((r) => r._tag === "Failure")
    expect(succeeded).toHaveLength(10)
    expect(failed).toHaveLength(10)
    for (const failure of failed) {
      expect(failure.failure).toMatchObject({
        _tag: "InsufficientFunds",
        available: 0,
        requested: 100,
      })
    }
    expect(figures(await balanceOf(account))).toEqual({ posted: 0, pending: 0, available: 0 })
    expect(await transactionCount(account)).toBe(11)
    const ledger = await ledgerOf(account)
    expect(ledger).toEqual({ entries: 11, posted: 0, pendingCredits: 0, pendingDebits: 0 })
    // Never negative: the running sum of the ledger in the order it was written.
    const running = await runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly lowest: string }>`
          select min(total)::text as lowest from (
            select sum(posted_delta) over (order by id) as total
              from ledger_entries where account_id = ${account.id}
          ) s`,
      ),
    )
    expect(Number(running[0]!.lowest)).toBe(0)
  })
})

describe("balance limits", () => {
  const limit = Number.MAX_SAFE_INTEGER
  const L = BigInt(limit)

  /** Everything a write could leave behind on the account: balances, rows, ledger, events. */
  const footprint = (account: Account) =>
    runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        Effect.gen(function* () {
          const [row] = yield* sql<Record<string, string>>`
            select posted_balance::text as posted, pending_credits::text as pending_credits,
                   pending_debits::text as pending_debits,
                   (select count(*)::text from transactions where account_id = a.id) as transactions,
                   (select count(*)::text from ledger_entries where account_id = a.id) as entries,
                   (select count(*)::text from transaction_events where user_id = a.user_id) as events,
                   (select count(*)::text from outbox where user_id = a.user_id) as outbox
              from accounts a where id = ${account.id}`
          return row
        }),
      ),
    )

  /** The three figures as PostgreSQL computes them from the stored columns, as text. */
  const selected = (account: Account) =>
    runtime
      .runPromise(
        SqlClient.SqlClient.use(
          (sql) => sql<{
            readonly posted: string
            readonly pending: string
            readonly available: string
          }>`
            select posted_balance::text as posted,
                   (posted_balance + pending_credits - pending_debits)::text as pending,
                   (posted_balance - pending_debits)::text as available
              from accounts where id = ${account.id}`,
        ),
      )
      .then(([row]) => row!)

  /** The repository's figures, which must be PostgreSQL's exactly. */
  const exactly = async (account: Account, asOf?: Date) => {
    const balance = await balanceOf(account, asOf)
    return {
      posted: String(balance.posted),
      pending: String(balance.pending),
      available: String(balance.available),
    }
  }

  const text = (posted: bigint, pending: bigint, available: bigint) => ({
    posted: String(posted),
    pending: String(pending),
    available: String(available),
  })

  it("refuses a posted credit past 2^53-1 with BalanceLimitExceeded, writing nothing", async () => {
    const account = await newAccount()
    await credit(account, limit - 4)
    const before = await footprint(account)
    const error = await refused(transactionOf(account, { direction: "credit", amount: 5 }))
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: account.id,
      figure: "posted+pendingCredits",
      balance: limit - 4,
      requested: 5,
      limit: limit,
    })
    expect(await footprint(account)).toEqual(before)
    await credit(account, 4)
    expect(await exactly(account)).toEqual(text(L, L, L))
  })

  it("refuses a pending credit past 2^53-1, counting earlier pending credits, writing nothing", async () => {
    const account = await newAccount()
    await credit(account, limit - 4)
    await credit(account, 4, { status: "pending" })
    const before = await footprint(account)
    const error = await refused(
      transactionOf(account, { direction: "credit", amount: 1, status: "pending" }),
    )
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: account.id,
      figure: "posted+pendingCredits",
      balance: limit,
      requested: 1,
      limit: limit,
    })
    expect(await footprint(account)).toEqual(before)
    expect(await exactly(account)).toEqual(text(L - 4n, L, L - 4n))
  })

  it("refuses a pending debit taking available below -(2^53-1) on an account that may go negative", async () => {
    const account = await newAccount({ allowNegative: true })
    await insert(transactionOf(account, { direction: "debit", amount: limit - 4 }))
    await insert(transactionOf(account, { direction: "debit", amount: 4, status: "pending" }))
    const before = await footprint(account)
    const error = await refused(
      transactionOf(account, { direction: "debit", amount: 1, status: "pending" }),
    )
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: account.id,
      figure: "available",
      balance: -limit,
      requested: 1,
      limit: -limit,
    })
    expect(await footprint(account)).toEqual(before)
    expect(await exactly(account)).toEqual(text(-L + 4n, -L, -L))
  })

  it("refuses a reversal whose credit would pass 2^53-1, leaving the original as it was", async () => {
    const account = await newAccount()
    await credit(account, limit - 10)
    const spent = await insert(transactionOf(account, { direction: "debit", amount: 5 }))
    await credit(account, 15)
    const before = await footprint(account)
    const error = await runtime.runPromise(
      withActor(
        TransactionRepository.use((r) =>
          r.reverse(
            account.userId,
            1,
            transactionOf(account, { direction: "credit", amount: 5, reversalOf: spent.id }),
            new Date("2026-02-01T00:00:00.000Z"),
          ),
        ),
      ).pipe(Effect.flip),
    )
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: account.id,
      balance: limit,
      requested: 5,
      limit: limit,
    })
    expect(await footprint(account)).toEqual(before)
    const original = await runtime.runPromise(
      TransactionRepository.use((r) => r.findById(account.userId, spent.id)),
    )
    expect(Option.getOrThrow(original)).toMatchObject({ status: "posted", version: 1 })
  })

  it("posts, voids and expires holds on an account at the limit, every figure exact", async () => {
    const account = await newAccount()
    const now = new Date("2026-02-01T00:00:00.000Z")
    await credit(account, limit - 10)
    const inA = await credit(account, 6, { status: "pending" })
    const inB = await credit(account, 4, { status: "pending" })
    const expiring = await insert(
      transactionOf(account, {
        direction: "debit",
        amount: 7,
        status: "pending",
        expiresAt: "2026-01-20T00:00:00.000Z",
      }),
    )
    const outY = await insert(
      transactionOf(account, { direction: "debit", amount: 3, status: "pending" }),
    )
    const steps: Array<[() => Promise<unknown>, ReturnType<typeof text>]> = [
      [async () => undefined, text(L - 10n, L - 10n, L - 20n)],
      [() => transition(account, inA.id, 1, "posted", now), text(L - 4n, L - 10n, L - 14n)],
      [() => transition(account, outY.id, 1, "voided", now), text(L - 4n, L - 7n, L - 11n)],
      [() => transition(account, inB.id, 1, "posted", now), text(L, L - 7n, L - 7n)],
      [() => expire(expiring.id, now), text(L, L, L)],
    ]
    for (const [step, figures] of steps) {
      await step()
      expect(await exactly(account)).toEqual(figures)
      expect(await selected(account)).toEqual(figures)
    }
  })

  it("sums the ledger as of a past time exactly where number arithmetic would round", async () => {
    const account = await newAccount()
    const stamp = (iso: string) => ({ createdAt: iso, updatedAt: iso })
    // Recorded in another order than written, as clocks of concurrent writers allow: as of
    // 10:03 the ledger holds posted 2^53-5, pending credits 10 and pending debits 8.
    await credit(account, limit - 4, stamp("2026-01-10T10:01:00.000Z"))
    await insert(
      transactionOf(account, {
        direction: "debit",
        amount: 8,
        status: "pending",
        ...stamp("2026-01-10T10:02:00.000Z"),
      }),
    )
    await insert(
      transactionOf(account, {
        direction: "debit",
        amount: 10,
        ...stamp("2026-01-10T10:04:00.000Z"),
      }),
    )
    await credit(account, 10, { status: "pending", ...stamp("2026-01-10T10:03:00.000Z") })
    const asOf = new Date("2026-01-10T10:03:00.000Z")
    expect(await exactly(account, asOf)).toEqual(text(L - 4n, L - 2n, L - 12n))
    expect(await exactly(account)).toEqual(text(L - 14n, L - 12n, L - 22n))
  })
})
