import { createHash } from "node:crypto"
import {
  type Account,
  Actor,
  type IdempotencyRecord,
  newTransactionId,
  type Transaction,
  TransactionRepository,
} from "@txn/domain"
import { startCountingProxy, testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PgAccountRepository, PgDatabase, PgTransactionRepository } from "../src/index.ts"
import { groupCommit } from "../src/transactions/groupCommit.ts"
import {
  accountOf,
  createUser,
  insertAccount,
  insertTransaction,
  makeRuntime,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

const limit = Number.MAX_SAFE_INTEGER

const countedRuntime = (url: Redacted.Redacted<string>) =>
  ManagedRuntime.make(
    Layer.mergeAll(PgAccountRepository.layer, PgTransactionRepository.layer).pipe(
      Layer.provideMerge(PgDatabase.layer({ url, maxConnections: 4 })),
    ),
  )

let runtime: TestRuntime
let proxy: Awaited<ReturnType<typeof startCountingProxy>>
let counted: ReturnType<typeof countedRuntime>
beforeAll(async () => {
  runtime = makeRuntime()
  const url = new URL(Redacted.value(testDatabaseUrl()))
  proxy = await startCountingProxy({ host: url.hostname, port: Number(url.port || 5432) })
  url.host = `127.0.0.1:${proxy.port}`
  counted = countedRuntime(Redacted.make(url.href))
})
afterAll(async () => {
  await counted.dispose()
  await proxy.close()
  await runtime.dispose()
})

const newAccount = async (fields: Partial<Account> = {}) => {
  const userId = await runtime.runPromise(createUser)
  return runtime.runPromise(insertAccount(accountOf(userId, fields)))
}

/** Posts `amount` to `account` (a credit unless negative), as a setup step. */
const fund = (account: Account, amount: number, fields: Partial<Transaction> = {}) =>
  runtime.runPromise(
    insertTransaction(
      transactionOf(account, {
        direction: amount < 0 ? "debit" : "credit",
        amount: Math.abs(amount),
        ...fields,
      }),
    ).pipe(Effect.provideService(Actor, "key_setup")),
  )

/**
 * A create made now: its idempotency key lives from its creation, and one made at the builders'
 * fixed time would already be past expiry, so any purge running meanwhile (a test's `npm start`
 * runs the worker's) could delete it.
 */
const made = (account: Account, fields: Partial<Transaction>) => {
  const now = new Date().toISOString()
  return transactionOf(account, { createdAt: now, updatedAt: now, ...fields })
}
const credit = (account: Account, amount: number, fields: Partial<Transaction> = {}) =>
  made(account, { direction: "credit", amount, ...fields })
const debit = (account: Account, amount: number, fields: Partial<Transaction> = {}) =>
  made(account, { direction: "debit", amount, ...fields })

const keyFor = (t: Transaction, key = `key-${t.id}`): IdempotencyRecord => ({
  key,
  operation: "transactions.create",
  requestHash: createHash("sha256").update(key).digest("hex"),
  response: t,
})

type Create = { readonly transaction: Transaction; readonly key?: IdempotencyRecord }

/**
 * Makes `creates` at once through a group commit that writes one group at a time: the first goes
 * alone, the others gather while it is written and go together. Answers each one's exit and how
 * many statements went over the wire.
 */
const together = async (creates: ReadonlyArray<Create>) => {
  const before = proxy.statements()
  const exits = await counted.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const create = groupCommit(sql, { concurrency: 1, maxGroup: 200 })
      return yield* Effect.all(
        creates.map((c) =>
          create(c.transaction, c.key).pipe(Effect.provideService(Actor, "key_group"), Effect.exit),
        ),
        { concurrency: "unbounded" },
      )
    }),
  )
  return { exits, statements: proxy.statements() - before }
}

/** What the database holds for an account. */
const stored = (account: Account) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [balance] = yield* sql<{
        readonly posted: string
        readonly pendingCredits: string
        readonly pendingDebits: string
      }>`
        select posted_balance::text as posted, pending_credits::text as pending_credits,
               pending_debits::text as pending_debits
          from accounts where id = ${account.id}`
      const rows = yield* sql<{ readonly id: string; readonly amount: string }>`
        select id, amount::text as amount from transactions where account_id = ${account.id}`
      const events = yield* sql<{ readonly id: string; readonly actor: string }>`
        select e.transaction_id as id, e.actor from transaction_events e
          join transactions t on t.id = e.transaction_id where t.account_id = ${account.id}`
      const entries = yield* sql<{ readonly id: string }>`
        select transaction_id as id from ledger_entries where account_id = ${account.id}`
      const keys = yield* sql<{ readonly key: string; readonly response: Transaction }>`
        select key, response from idempotency_keys where user_id = ${account.userId}`
      return {
        posted: Number(balance?.posted),
        pendingCredits: Number(balance?.pendingCredits),
        pendingDebits: Number(balance?.pendingDebits),
        ids: rows.map((row) => row.id).sort(),
        events,
        entries: entries.map((row) => row.id).sort(),
        keys,
      }
    }),
  )

const written = (exit: Exit.Exit<Option.Option<Transaction>, unknown>) =>
  Exit.isSuccess(exit) && Option.isSome(exit.value) ? exit.value.value : undefined

const failureTag = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isFailure(exit)
    ? ((exit.cause.reasons[0] as { error?: { _tag?: string } } | undefined)?.error?._tag ??
      "defect")
    : undefined

describe("single creates made together", () => {
  it("are written a group per statement, each once with its event, ledger entry and key", async () => {
    const first = await newAccount()
    const accounts = await Promise.all(Array.from({ length: 5 }, () => newAccount()))
    const group = accounts.flatMap((account, i) =>
      [credit(account, 100 + i), credit(account, 200 + i)].map((transaction) => ({
        transaction,
        key: keyFor(transaction),
      })),
    )
    const { exits, statements } = await together([{ transaction: credit(first, 1) }, ...group])
    // The first alone, then the other ten in one statement.
    expect(statements).toBe(2)
    for (const [i, exit] of exits.entries()) {
      const transaction = i === 0 ? credit(first, 1) : group[i - 1]!.transaction
      expect(written(exit)?.amount, `create ${i}`).toBe(transaction.amount)
    }
    for (const [i, account] of accounts.entries()) {
      const mine = group.map((c) => c.transaction).filter((t) => t.accountId === account.id)
      const ids = mine.map((t) => t.id).sort()
      const held = await stored(account)
      expect(held.posted).toBe(100 + i + 200 + i)
      expect(held.ids).toEqual(ids)
      expect(held.entries).toEqual(ids)
      expect(held.events.map((e) => e.id).sort()).toEqual(ids)
      expect(held.events.every((e) => e.actor === "key_group")).toBe(true)
      expect(held.keys.map((k) => k.key).sort()).toEqual(ids.map((id) => `key-${id}`).sort())
      for (const key of held.keys) {
        expect(key.response.id).toBe(key.key.slice("key-".length))
      }
    }
  })

  it("through the repository, go to PostgreSQL in fewer statements than there are creates", async () => {
    const accounts = await Promise.all(Array.from({ length: 8 }, () => newAccount()))
    const transactions = Array.from({ length: 40 }, (_, i) => credit(accounts[i % 8]!, 10 + i))
    const before = proxy.statements()
    const answers = await counted.runPromise(
      Effect.all(
        transactions.map((t) =>
          TransactionRepository.use((repository) => repository.create(t, keyFor(t))),
        ),
        { concurrency: "unbounded" },
      ).pipe(Effect.provideService(Actor, "key_group")),
    )
    const statements = proxy.statements() - before
    expect(answers.every(Option.isSome)).toBe(true)
    // One at a time they would be 40.
    expect(statements).toBeLessThanOrEqual(20)
    for (const [i, account] of accounts.entries()) {
      const expected = transactions.filter((_, j) => j % 8 === i)
      const held = await stored(account)
      expect(held.ids).toEqual(expected.map((t) => t.id).sort())
      expect(held.posted).toBe(expected.reduce((sum, t) => sum + t.amount, 0))
    }
  })

  it("takes an account's debits together when all of them fit its funds", async () => {
    const first = await newAccount()
    const account = await newAccount()
    await fund(account, 100)
    const { exits, statements } = await together([
      { transaction: credit(first, 1) },
      { transaction: debit(account, 60) },
      { transaction: debit(account, 40) },
    ])
    expect(statements).toBe(2)
    expect(exits.map((exit) => written(exit) !== undefined)).toEqual([true, true, true])
    expect((await stored(account)).posted).toBe(0)
  })

  it("decides one at a time the debits that do not all fit, as if they came one after another", async () => {
    const first = await newAccount()
    const account = await newAccount()
    await fund(account, 100)
    const { exits } = await together([
      { transaction: credit(first, 1) },
      { transaction: debit(account, 60) },
      { transaction: debit(account, 41) },
    ])
    const tags = exits.slice(1).map((exit) => (written(exit) ? "written" : failureTag(exit)))
    expect(tags.sort()).toEqual(["InsufficientFunds", "written"])
    const held = await stored(account)
    expect([40, 59]).toContain(held.posted)
    expect(held.ids).toHaveLength(2)
  })

  it("ends where one order of the creates would end when a debit needs a credit of the same group", async () => {
    const first = await newAccount()
    const account = await newAccount()
    await fund(account, 100)
    const { exits } = await together([
      { transaction: credit(first, 1) },
      { transaction: debit(account, 150) },
      { transaction: credit(account, 100) },
    ])
    const held = await stored(account)
    const debited = written(exits[1]!) !== undefined
    expect(written(exits[2]!)).toBeDefined()
    // Credit first: both go in. Debit first: the debit is refused, the credit goes in.
    if (debited) expect(held.posted).toBe(50)
    else {
      expect(failureTag(exits[1]!)).toBe("InsufficientFunds")
      expect(held.posted).toBe(200)
    }
  })

  it("refuses what no order could take, even where the group's sum would fit", async () => {
    const first = await newAccount()
    const account = await newAccount()
    // Posted 0, pending credits 10 below the limit: a credit of 20 passes the limit whenever it
    // comes, and a debit of 20 has no funds whenever it comes; together they sum to nothing.
    await fund(account, limit - 10, { status: "pending" })
    const { exits } = await together([
      { transaction: credit(first, 1) },
      { transaction: credit(account, 20) },
      { transaction: debit(account, 20) },
    ])
    expect(failureTag(exits[1]!)).toBe("BalanceLimitExceeded")
    expect(failureTag(exits[2]!)).toBe("InsufficientFunds")
    const held = await stored(account)
    expect(held).toMatchObject({ posted: 0, pendingCredits: limit - 10, pendingDebits: 0 })
    expect(held.ids).toHaveLength(1)
  })

  it("writes a key sent twice in one group once; the second create records nothing", async () => {
    const first = await newAccount()
    const account = await newAccount()
    const a = credit(account, 300)
    const b = credit(account, 300)
    const { exits } = await together([
      { transaction: credit(first, 1) },
      { transaction: a, key: keyFor(a, "twice") },
      { transaction: b, key: keyFor(b, "twice") },
    ])
    expect(written(exits[1]!)?.id).toBe(a.id)
    expect(Exit.isSuccess(exits[2]!) && Option.isNone(exits[2].value)).toBe(true)
    const held = await stored(account)
    expect(held.ids).toEqual([a.id])
    expect(held.posted).toBe(300)
    expect(held.keys.map((k) => k.key)).toEqual(["twice"])
  })

  it("records nothing for a create on another user's account or in another currency", async () => {
    const first = await newAccount()
    const account = await newAccount()
    const stranger = await newAccount()
    const { exits } = await together([
      { transaction: credit(first, 1) },
      { transaction: { ...credit(stranger, 5), userId: account.userId } },
      { transaction: { ...credit(account, 5), currency: "USD" as Account["currency"] } },
      { transaction: credit(account, 7) },
    ])
    expect(exits.slice(1).map((exit) => Exit.isSuccess(exit) && Option.isSome(exit.value))).toEqual(
      [false, false, true],
    )
    expect((await stored(stranger)).ids).toEqual([])
    expect((await stored(account)).posted).toBe(7)
  })

  it("fails alone a create that breaks the group's statement; the others are written", async () => {
    const first = await newAccount()
    const account = await newAccount()
    const existing = await fund(account, 10)
    const clash = credit(account, 20, { id: existing.id })
    const fine = credit(account, 30)
    const { exits } = await together([
      { transaction: credit(first, 1) },
      { transaction: clash },
      { transaction: fine, key: keyFor(fine) },
    ])
    expect(failureTag(exits[1]!)).toBe("defect")
    expect(written(exits[2]!)?.id).toBe(fine.id)
    const held = await stored(account)
    expect(held.posted).toBe(40)
    expect(held.ids).toEqual([existing.id, fine.id].sort())
  })

  it("gives each create of a group the id it was made with", async () => {
    const first = await newAccount()
    const account = await newAccount()
    const ids = Array.from({ length: 6 }, () => newTransactionId())
    const { exits } = await together([
      { transaction: credit(first, 1) },
      ...ids.map((id, i) => ({ transaction: credit(account, 1 + i, { id }) })),
    ])
    expect(exits.slice(1).map((exit) => written(exit)?.id)).toEqual(ids)
  })

  it("stores text, metadata, keys and answers exactly as sent", async () => {
    const first = await newAccount()
    const account = await newAccount()
    const texts = [
      'quote " and \\ backslash',
      "\\N",
      "NULL",
      "{a,b}",
      "",
      "Café ☕ 𝄞",
      "  spaced  ",
    ]
    const creates = texts.map((text, i) => {
      const transaction = credit(account, 1 + i, {
        description: text,
        counterparty: text === "" ? null : text,
        metadata: { text, nested: `{"${text}"}`, [text || "empty"]: "NULL" },
      })
      return { transaction, key: keyFor(transaction, `key ${text} ${i}`) }
    })
    const { exits } = await together([{ transaction: credit(first, 1) }, ...creates])
    expect(exits.every((exit) => written(exit) !== undefined)).toBe(true)
    const rows = await runtime.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{
          readonly id: string
          readonly description: string | null
          readonly counterparty: string | null
          readonly metadata: unknown
        }>`select id, description, counterparty, metadata from transactions
            where account_id = ${account.id}`
      }),
    )
    const keys = (await stored(account)).keys
    for (const { transaction, key } of creates) {
      const row = rows.find((r) => r.id === transaction.id)
      expect(row).toEqual({
        id: transaction.id,
        description: transaction.description,
        counterparty: transaction.counterparty,
        metadata: transaction.metadata,
      })
      expect(keys.find((k) => k.key === key.key)?.response).toEqual(transaction)
    }
  })

  it("carries at most maxGroup creates a statement; the rest go in the next group", async () => {
    const first = await newAccount()
    const accounts = await Promise.all(Array.from({ length: 10 }, () => newAccount()))
    const creates = Array.from({ length: 249 }, (_, i) => {
      const transaction = credit(accounts[i % 10]!, 1 + i)
      return { transaction, key: keyFor(transaction) }
    })
    const { exits, statements } = await together([{ transaction: credit(first, 1) }, ...creates])
    // The first alone, then 200, then 49.
    expect(statements).toBe(3)
    expect(exits.every((exit) => written(exit) !== undefined)).toBe(true)
    for (const [i, account] of accounts.entries()) {
      const expected = creates.map((c) => c.transaction).filter((_, j) => j % 10 === i)
      const held = await stored(account)
      expect(held.ids).toEqual(expected.map((t) => t.id).sort())
      expect(held.posted).toBe(expected.reduce((sum, t) => sum + t.amount, 0))
      expect(held.keys).toHaveLength(expected.length)
    }
  })
})
