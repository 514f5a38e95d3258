import {
  type Account,
  newTransactionId,
  newTransferId,
  type Transaction,
  type Transfer,
  TransferRepository,
} from "@txn/domain"
import { testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  PgAccountRepository,
  PgDatabase,
  PgTransactionRepository,
  PgTransferRepository,
  PgUserRepository,
} from "../src/index.ts"
import {
  accountOf,
  createUser,
  insertAccount,
  insertTransaction,
  outcome,
  transactionOf,
} from "./fixtures.ts"

const makeTransferRuntime = () =>
  ManagedRuntime.make(
    Layer.mergeAll(
      PgAccountRepository.layer,
      PgTransactionRepository.layer,
      PgTransferRepository.layer,
      PgUserRepository.layer,
    ).pipe(Layer.provideMerge(PgDatabase.layer({ url: testDatabaseUrl(), maxConnections: 4 }))),
  )

let runtime: ReturnType<typeof makeTransferRuntime>
beforeAll(() => {
  runtime = makeTransferRuntime()
})
afterAll(() => runtime.dispose())

/** Two accounts of one new user; the source funded with `funds`. */
const pair = async (funds = 1_000) => {
  const userId = await runtime.runPromise(createUser)
  const from = await runtime.runPromise(insertAccount(accountOf(userId)))
  const to = await runtime.runPromise(insertAccount(accountOf(userId)))
  if (funds > 0) {
    await runtime.runPromise(
      insertTransaction(transactionOf(from, { direction: "credit", amount: funds })),
    )
  }
  return { from, to }
}

const legsOf = (from: Account, to: Account, amount: number) => {
  const id = newTransferId()
  const stamp = new Date().toISOString()
  const leg = (account: Account, direction: Transaction["direction"]) =>
    transactionOf(account, {
      direction,
      amount,
      category: "transfer",
      reference: id,
      transferId: id,
      occurredAt: stamp,
      createdAt: stamp,
      updatedAt: stamp,
    })
  const debit = leg(from, "debit")
  const credit = leg(to, "credit")
  const transfer: Transfer = {
    id,
    userId: from.userId,
    fromAccountId: from.id,
    toAccountId: to.id,
    amount,
    currency: from.currency,
    description: null,
    debitTransactionId: debit.id,
    creditTransactionId: credit.id,
    createdAt: stamp,
  }
  return { transfer, debit, credit }
}

const insertTransfer = (t: ReturnType<typeof legsOf>) =>
  TransferRepository.use((r) => r.insert(t.transfer, t.debit, t.credit))

/** Everything stored about the accounts: balances, transactions, events, ledger entries, transfers. */
const stored = (accounts: ReadonlyArray<Account>) =>
  runtime.runPromise(
    SqlClient.SqlClient.use((sql) =>
      Effect.gen(function* () {
        const ids = accounts.map((a) => a.id)
        const balances = yield* sql<{ id: string; postedBalance: string }>`
          select id, posted_balance::text, pending_credits::text, pending_debits::text
            from accounts where id in ${sql.in(ids)} order by id`
        const transactions = yield* sql<{ id: string; transferId: string | null }>`
          select id, transfer_id from transactions where account_id in ${sql.in(ids)} order by id`
        const events = yield* sql`
          select e.transaction_id, e.version from transaction_events e
            join transactions t on t.id = e.transaction_id
           where t.account_id in ${sql.in(ids)} order by 1, 2`
        const ledger = yield* sql`
          select id::text from ledger_entries where account_id in ${sql.in(ids)} order by id`
        const transfers = yield* sql`
          select id from transfers
           where from_account_id in ${sql.in(ids)} or to_account_id in ${sql.in(ids)} order by id`
        return { balances, transactions, events, ledger, transfers }
      }),
    ),
  )

const countWhere = (table: string, column: string, value: string) =>
  runtime.runPromise(
    SqlClient.SqlClient.use((sql) =>
      sql<{
        n: string
      }>`select count(*)::text as n from ${sql(table)} where ${sql(column)} = ${value}`.pipe(
        Effect.map(([row]) => Number(row!.n)),
      ),
    ),
  )

describe("PgTransferRepository", () => {
  it("records both legs naming the transfer, moves the balances and finds the transfer", async () => {
    const { from, to } = await pair(1_000)
    const t = legsOf(from, to, 400)
    expect(await runtime.runPromise(insertTransfer(t))).toEqual(t.transfer)
    const found = await runtime.runPromise(
      TransferRepository.use((r) => r.findById(from.userId, t.transfer.id)),
    )
    expect(Option.getOrThrow(found)).toEqual(t.transfer)
    // Another user does not find it.
    const other = await runtime.runPromise(createUser)
    expect(
      Option.isNone(
        await runtime.runPromise(TransferRepository.use((r) => r.findById(other, t.transfer.id))),
      ),
    ).toBe(true)
    const after = await stored([from, to])
    const legs = after.transactions.filter((row) =>
      [t.debit.id, t.credit.id].some((id) => id === row.id),
    )
    expect(legs).toHaveLength(2)
    for (const leg of legs) expect(leg.transferId).toBe(t.transfer.id)
    expect(await countWhere("ledger_entries", "transaction_id", t.debit.id)).toBe(1)
    expect(await countWhere("ledger_entries", "transaction_id", t.credit.id)).toBe(1)
    const byId = Object.fromEntries(after.balances.map((b) => [b.id, b.postedBalance]))
    expect(byId).toEqual({ [from.id]: "600", [to.id]: "400" })
  })

  it("fails with InsufficientFunds and records nothing when the source cannot cover it", async () => {
    const { from, to } = await pair(100)
    const before = await stored([from, to])
    const exit = await runtime.runPromiseExit(insertTransfer(legsOf(from, to, 101)))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toContain("InsufficientFunds")
    expect(await stored([from, to])).toEqual(before)
  })

  it("fails with BalanceLimitExceeded naming the target and records nothing when its credit would pass 2^53-1", async () => {
    const { from, to } = await pair(100)
    await runtime.runPromise(
      insertTransaction(
        transactionOf(to, { direction: "credit", amount: Number.MAX_SAFE_INTEGER - 50 }),
      ),
    )
    const before = await stored([from, to])
    const error = await runtime.runPromise(insertTransfer(legsOf(from, to, 51)).pipe(Effect.flip))
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: to.id,
      figure: "posted+pendingCredits",
      balance: Number.MAX_SAFE_INTEGER - 50,
      requested: 51,
      limit: Number.MAX_SAFE_INTEGER,
    })
    expect(await stored([from, to])).toEqual(before)
    expect(await runtime.runPromise(insertTransfer(legsOf(from, to, 50)))).toBeDefined()
    const byId = Object.fromEntries(
      (await stored([from, to])).balances.map((b) => [b.id, b.postedBalance]),
    )
    expect(byId).toEqual({ [from.id]: "50", [to.id]: "9007199254740991" })
  })

  it("fails with BalanceLimitExceeded naming the source when its debit would take available below -(2^53-1)", async () => {
    const userId = await runtime.runPromise(createUser)
    const from = await runtime.runPromise(insertAccount(accountOf(userId, { allowNegative: true })))
    const to = await runtime.runPromise(insertAccount(accountOf(userId)))
    await runtime.runPromise(
      insertTransaction(transactionOf(from, { amount: Number.MAX_SAFE_INTEGER - 10 })),
    )
    const before = await stored([from, to])
    const error = await runtime.runPromise(insertTransfer(legsOf(from, to, 11)).pipe(Effect.flip))
    expect(error).toMatchObject({
      _tag: "BalanceLimitExceeded",
      accountId: from.id,
      figure: "available",
      balance: -(Number.MAX_SAFE_INTEGER - 10),
      requested: 11,
      limit: -Number.MAX_SAFE_INTEGER,
    })
    expect(await stored([from, to])).toEqual(before)
  })

  it.each([
    [
      "the credit leg fails (its id taken by the debit)",
      (t: ReturnType<typeof legsOf>) => ({ ...t, credit: { ...t.credit, id: t.debit.id } }),
    ],
    [
      "the transfer row fails (an id the table refuses) after both legs",
      (t: ReturnType<typeof legsOf>) => ({
        ...t,
        transfer: { ...t.transfer, id: "trf_NOT-VALID" as Transfer["id"] },
      }),
    ],
  ])("leaves no transfer, no legs, no events and no ledger entries when %s", async (_, spoil) => {
    const { from, to } = await pair(1_000)
    const before = await stored([from, to])
    const t = spoil(legsOf(from, to, 300))
    const exit = await runtime.runPromiseExit(insertTransfer(t))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(await stored([from, to])).toEqual(before)
    for (const id of [t.debit.id, t.credit.id]) {
      expect(await countWhere("transactions", "id", id)).toBe(0)
      expect(await countWhere("ledger_entries", "transaction_id", id)).toBe(0)
    }
    expect(await countWhere("transfers", "id", t.transfer.id)).toBe(0)
    // The accounts still work afterwards: nothing was left locked or half-written.
    const good = legsOf(from, to, 300)
    expect(await runtime.runPromise(insertTransfer(good))).toEqual(good.transfer)
  })

  it("the database refuses a transfer from an account to itself", async () => {
    const { from, to } = await pair(1_000)
    // Real legs, so only the check can refuse the row.
    const debit = await runtime.runPromise(insertTransaction(transactionOf(from)))
    const credit = await runtime.runPromise(
      insertTransaction(transactionOf(to, { direction: "credit" })),
    )
    const row = (toAccountId: string) => ({
      id: newTransferId(),
      userId: from.userId,
      fromAccountId: from.id,
      toAccountId,
      amount: 100,
      currency: "EUR",
      debitTransactionId: debit.id,
      creditTransactionId: credit.id,
      createdAt: new Date().toISOString(),
    })
    const same = await outcome(
      runtime as never,
      SqlClient.SqlClient.use((sql) => sql`insert into transfers ${sql.insert(row(from.id))}`),
    )
    expect(same).toMatchObject({ rejected: true, code: "23514", constraint: "transfers_check" })
    const distinct = await outcome(
      runtime as never,
      SqlClient.SqlClient.use((sql) => sql`insert into transfers ${sql.insert(row(to.id))}`),
    )
    expect(distinct).toEqual({ rejected: false })
  })

  it("a transaction's transfer_id must name an existing transfer", async () => {
    const { from } = await pair(1_000)
    const exit = await runtime.runPromiseExit(
      insertTransaction(
        transactionOf(from, { id: newTransactionId(), transferId: newTransferId() }),
      ),
    )
    expect(Exit.isFailure(exit)).toBe(true)
  })
})
