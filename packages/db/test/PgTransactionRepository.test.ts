import {
  type Account,
  type ListTransactions,
  newTransactionId,
  type Page,
  type Transaction,
  type TransactionId,
  TransactionRepository,
  type UpdateTransaction,
  type UserId,
} from "@txn/domain"
import { eventually } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  accountOf,
  createUser,
  insertAccount,
  insertTransaction,
  makeRuntime,
  newestFirst,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

// Not about balances (balances.test.ts is): debits go through unfunded.
const newAccount = async (userId?: UserId) =>
  runtime.runPromise(
    insertAccount(
      accountOf(userId ?? (await runtime.runPromise(createUser)), { allowNegative: true }),
    ),
  )
const insert = (transaction: Transaction) => runtime.runPromise(insertTransaction(transaction))
const findById = (userId: UserId, id: TransactionId) =>
  runtime.runPromise(TransactionRepository.use((r) => r.findById(userId, id)))
const list = (userId: UserId, query: ListTransactions = {}) =>
  runtime.runPromise(TransactionRepository.use((r) => r.list(userId, query)))
const update = (userId: UserId, change: UpdateTransaction, now: Date) =>
  runtime.runPromise(TransactionRepository.use((r) => r.update(userId, change, now)))
const expire = (id: TransactionId, now: Date) =>
  runtime.runPromise(TransactionRepository.use((r) => r.expire(id, now)))
const findExpired = (now: Date, limit: number) =>
  runtime.runPromise(TransactionRepository.use((r) => r.findExpired(now, limit)))

const ids = (page: Page<Transaction>) => page.items.map((t) => t.id)

describe("PgTransactionRepository insert and findById", () => {
  it.each([
    ["SQL text", "'; drop table transactions; --"],
    ["an emoji and a control character", "💸\u0007"],
  ])("returns every field unchanged, with a description of %s verbatim", async (_, description) => {
    const account = await newAccount()
    const transaction = transactionOf(account, {
      direction: "credit",
      amount: Number.MAX_SAFE_INTEGER,
      status: "pending",
      description,
      category: "groceries",
      counterparty: `O'Brien "Bros" \\ Söhne`,
      reference: "100%_sure",
      occurredAt: "2026-02-03T04:05:06.789Z",
      expiresAt: "2026-02-10T00:00:00.000Z",
      metadata: { emoji: "🧾", quote: `"'`, sql: "1; select pg_sleep(10)" },
      createdAt: "2026-02-03T04:05:07.001Z",
      updatedAt: "2026-02-03T04:05:07.002Z",
    })

    expect(await insert(transaction)).toEqual(transaction)
    const found = Option.getOrThrow(await findById(account.userId, transaction.id))
    expect(found).toEqual(transaction)
    expect(found.amount).toBe(9007199254740991)
    expect(typeof found.amount).toBe("number")
  })

  it("does not find an unknown id", async () => {
    const account = await newAccount()
    expect(await findById(account.userId, newTransactionId())).toEqual(Option.none())
  })
})

describe("PgTransactionRepository list filters", () => {
  let userId: UserId
  const named = new Map<string, string>()
  let a: Account
  let b: Account

  // Listed newest first, the order every list returns.
  const names = (page: Page<Transaction>) => page.items.map((t) => named.get(t.id))

  beforeAll(async () => {
    userId = await runtime.runPromise(createUser)
    a = await newAccount(userId)
    b = await newAccount(userId)
    const feeId = newTransactionId()
    const rows: Record<string, Transaction> = {
      // A reversed row must name its reversal; pointing at itself keeps this list's rows as they are.
      fee: transactionOf(a, {
        id: feeId,
        reversedBy: feeId,
        direction: "debit",
        amount: 100,
        status: "reversed",
        reference: "FEE_2026_03",
        occurredAt: "2026-03-01T00:00:00.000Z",
      }),
      refund: transactionOf(b, {
        direction: "credit",
        amount: 450,
        status: "voided",
        category: "food",
        description: "50% off refund",
        counterparty: "Corner shop",
        reference: "RF-9",
        occurredAt: "2026-02-15T12:30:00.000Z",
      }),
      hotel: transactionOf(b, {
        direction: "debit",
        amount: 12_000,
        status: "pending",
        category: "travel",
        description: "Hotel deposit",
        counterparty: "Grand Hotel",
        occurredAt: "2026-02-01T00:00:00.000Z",
        expiresAt: "2026-02-08T00:00:00.000Z",
      }),
      salary: transactionOf(a, {
        direction: "credit",
        amount: 500_000,
        status: "posted",
        category: "income",
        description: "January salary",
        counterparty: "ACME Corp",
        reference: "PAY-2026-01",
        occurredAt: "2026-01-31T00:00:00.000Z",
      }),
      coffee: transactionOf(a, {
        direction: "debit",
        amount: 450,
        status: "posted",
        category: "food",
        description: "Morning coffee",
        counterparty: "Blue Bottle",
        reference: "INV-001",
        occurredAt: "2026-01-10T08:00:00.000Z",
      }),
    }
    for (const [name, row] of Object.entries(rows)) {
      await insert(row)
      named.set(row.id, name)
    }
  })

  it("lists all of the user's transactions newest first", async () => {
    expect(names(await list(userId))).toEqual(["fee", "refund", "hotel", "salary", "coffee"])
  })

  it("filters by account", async () => {
    expect(names(await list(userId, { accountId: b.id }))).toEqual(["refund", "hotel"])
  })

  it("filters by status", async () => {
    expect(names(await list(userId, { status: "pending" }))).toEqual(["hotel"])
  })

  it("filters by direction", async () => {
    expect(names(await list(userId, { direction: "credit" }))).toEqual(["refund", "salary"])
  })

  it("filters by category", async () => {
    expect(names(await list(userId, { category: "food" }))).toEqual(["refund", "coffee"])
  })

  it("filters by occurredFrom (inclusive) and occurredTo (exclusive)", async () => {
    const page = await list(userId, {
      occurredFrom: "2026-01-31T00:00:00.000Z",
      occurredTo: "2026-02-15T12:30:00.000Z",
    })
    expect(names(page)).toEqual(["hotel", "salary"])
  })

  it("filters by minAmount and maxAmount, both inclusive", async () => {
    const page = await list(userId, { minAmount: 450, maxAmount: 12_000 })
    expect(names(page)).toEqual(["refund", "hotel", "coffee"])
  })

  it("combines filters with and", async () => {
    const page = await list(userId, { accountId: a.id, direction: "debit", minAmount: 200 })
    expect(names(page)).toEqual(["coffee"])
  })

  it.each([
    ["description", "MORNING Coffee", ["coffee"]],
    ["counterparty", "grand", ["hotel"]],
    ["reference", "pay-2026", ["salary"]],
  ])("searches the %s case-insensitively", async (_, search, expected) => {
    expect(names(await list(userId, { search }))).toEqual(expected)
  })

  it.each([
    ["%", ["refund"]],
    ["_", ["fee"]],
  ])("matches %j only as that literal character", async (search, expected) => {
    expect(names(await list(userId, { search }))).toEqual(expected)
  })

  it("returns nothing when no transaction matches", async () => {
    const page = await list(userId, { search: "no such text" })
    expect(page).toEqual({ items: [], hasMore: false, nextCursor: null })
  })
})

describe("PgTransactionRepository list pagination and ownership", () => {
  it("pages 25 transactions sharing one occurredAt by 10 with no duplicates or gaps", async () => {
    const account = await newAccount()
    const inserted: Array<Transaction> = []
    for (let i = 0; i < 25; i++) {
      inserted.push(
        await insert(transactionOf(account, { occurredAt: "2026-04-01T00:00:00.000Z" })),
      )
    }

    const pages: Array<Page<Transaction>> = []
    let cursor: string | undefined
    do {
      const page = await list(account.userId, { limit: 10, ...(cursor ? { cursor } : {}) })
      pages.push(page)
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined && pages.length < 5)

    expect(pages.map((page) => page.items.length)).toEqual([10, 10, 5])
    expect(pages.map((page) => page.hasMore)).toEqual([true, true, false])
    const paged = pages.flatMap(ids)
    expect(new Set(paged).size).toBe(25)
    expect(paged).toEqual(inserted.sort(newestFirst((t) => t.occurredAt)).map((t) => t.id))
  })

  it("never shows another user's transactions", async () => {
    const owner = await newAccount()
    const stranger = await newAccount()
    const secret = await insert(transactionOf(owner, { description: "owner's secret" }))
    const visible = await insert(transactionOf(stranger, { description: "stranger's own" }))

    expect(ids(await list(stranger.userId))).toEqual([visible.id])
    expect(ids(await list(stranger.userId, { accountId: owner.id }))).toEqual([])
    expect(ids(await list(stranger.userId, { search: "secret" }))).toEqual([])
    expect(await findById(stranger.userId, secret.id)).toEqual(Option.none())
  })
})

describe("PgTransactionRepository update", () => {
  const now = new Date("2026-05-01T10:00:00.123Z")

  const seed = async () => {
    const account = await newAccount()
    return insert(
      transactionOf(account, {
        description: "Groceries",
        category: "food",
        counterparty: "Market",
        reference: "R-1",
        metadata: { source: "import" },
      }),
    )
  }

  it("changes only the given fields and bumps version and updatedAt", async () => {
    const original = await seed()
    const expected = {
      ...original,
      category: "household",
      metadata: { source: "manual" },
      version: 2,
      updatedAt: now.toISOString(),
    }

    const updated = await update(
      original.userId,
      {
        id: original.id,
        expectedVersion: 1,
        category: "household",
        metadata: { source: "manual" },
      },
      now,
    )

    expect(updated).toEqual(Option.some(expected))
    expect(await findById(original.userId, original.id)).toEqual(Option.some(expected))
  })

  it("clears the description when it is set to null", async () => {
    const original = await seed()
    const updated = await update(
      original.userId,
      { id: original.id, expectedVersion: 1, description: null },
      now,
    )
    expect(updated).toEqual(
      Option.some({ ...original, description: null, version: 2, updatedAt: now.toISOString() }),
    )
  })

  it("returns none and changes nothing when expectedVersion is stale", async () => {
    const original = await seed()
    await update(original.userId, { id: original.id, expectedVersion: 1, category: "first" }, now)

    const stale = await update(
      original.userId,
      { id: original.id, expectedVersion: 1, category: "second" },
      now,
    )

    expect(stale).toEqual(Option.none())
    const stored = Option.getOrThrow(await findById(original.userId, original.id))
    expect(stored).toMatchObject({ category: "first", version: 2 })
  })

  it("returns none and changes nothing for another user's transaction", async () => {
    const original = await seed()
    const stranger = await runtime.runPromise(createUser)

    const result = await update(
      stranger,
      { id: original.id, expectedVersion: 1, description: "hijacked" },
      now,
    )

    expect(result).toEqual(Option.none())
    expect(await findById(original.userId, original.id)).toEqual(Option.some(original))
  })
})

describe("PgTransactionRepository expire and findExpired", () => {
  // Far in the future, so a hold sweeper of another test file running on real time never voids
  // these rows first.
  const expiresAt = "2999-01-01T00:00:00.000Z"
  const before = new Date("2998-12-31T23:59:59.999Z")
  const after = new Date("2999-01-01T00:00:01.000Z")

  const hold = async (fields: Partial<Transaction> = {}) =>
    insert(transactionOf(await newAccount(), { status: "pending", expiresAt, ...fields }))

  it("voids a pending transaction past its expiry and bumps its version", async () => {
    const pending = await hold()

    expect(await expire(pending.id, after)).toBe("voided")
    expect(await findById(pending.userId, pending.id)).toEqual(
      Option.some({ ...pending, status: "voided", version: 2, updatedAt: after.toISOString() }),
    )
  })

  it("voids a pending transaction exactly at its expiry", async () => {
    const pending = await hold()
    expect(await expire(pending.id, new Date(expiresAt))).toBe("voided")
  })

  it("answers notDue before the expiry and leaves the row pending", async () => {
    const pending = await hold()
    expect(await expire(pending.id, before)).toBe("notDue")
    expect(await findById(pending.userId, pending.id)).toEqual(Option.some(pending))
  })

  it("answers notPending for a posted transaction", async () => {
    const posted = await hold({ status: "posted", expiresAt: null })
    expect(await expire(posted.id, after)).toBe("notPending")
    expect(await findById(posted.userId, posted.id)).toEqual(Option.some(posted))
  })

  it("answers missing for an unknown id", async () => {
    expect(await expire(newTransactionId(), after)).toBe("missing")
  })

  it("answers notPending when the same transaction is expired a second time", async () => {
    const pending = await hold()
    expect(await expire(pending.id, after)).toBe("voided")
    expect(await expire(pending.id, after)).toBe("notPending")
    const stored = Option.getOrThrow(await findById(pending.userId, pending.id))
    expect(stored.version).toBe(2)
  })

  it("finds only pending transactions at or past their expiry, oldest first", async () => {
    const account = await newAccount()
    const make = (fields: Partial<Transaction>) => insert(transactionOf(account, fields))
    const overdue = await make({ status: "pending", expiresAt: "2999-01-01T00:00:00.000Z" })
    const dueNow = await make({ status: "pending", expiresAt: "2999-01-02T00:00:00.000Z" })
    const notDue = await make({ status: "pending", expiresAt: "2999-01-02T00:00:00.001Z" })
    const voided = await make({ status: "voided", expiresAt: "2999-01-01T00:00:00.000Z" })
    const posted = await make({ status: "posted" })
    const mine = new Set([overdue.id, dueNow.id, notDue.id, voided.id, posted.id])

    // The sweep is global; a limit far above this run's holds keeps other files' rows from
    // crowding these out.
    const found = await findExpired(new Date("2999-01-02T00:00:00.000Z"), 100_000)

    expect(found.filter((id) => mine.has(id))).toEqual([overdue.id, dueNow.id])
  })

  it("returns at most limit ids", async () => {
    await hold()
    await hold()
    expect(await findExpired(after, 1)).toHaveLength(1)
  })
})

describe("PgTransactionRepository expire under concurrency", () => {
  it("answers notPending to a second expire that waited for the first one to commit", async () => {
    const account = await newAccount()
    const pending = await insert(
      transactionOf(account, { status: "pending", expiresAt: "2999-01-01T00:00:00.000Z" }),
    )
    const now = new Date("2999-01-01T00:00:01.000Z")

    let release!: () => void
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let firstVoided!: (pid: number) => void
    const firstPid = new Promise<number>((resolve) => {
      firstVoided = resolve
    })
    // The first expire voids the row inside a transaction that stays open until released.
    const first = runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            const outcome = yield* TransactionRepository.use((r) => r.expire(pending.id, now))
            const [{ pid }] = (yield* sql<{ pid: number }>`select pg_backend_pid() as pid`) as [
              { pid: number },
            ]
            firstVoided(pid)
            yield* Effect.promise(() => released)
            return outcome
          }),
        ),
      ),
    )
    const pid = await firstPid
    const second = expire(pending.id, now)
    await eventually(
      async () => {
        const [row] = await runtime.runPromise(
          SqlClient.SqlClient.use(
            (sql) =>
              sql<{ waiting: number }>`select count(*)::int as waiting from pg_stat_activity
                where ${pid}::int = any(pg_blocking_pids(pid))`,
          ),
        )
        return row!.waiting > 0 ? true : undefined
      },
      { what: "the second expire to wait for the first one's row lock" },
    )
    release()

    expect(await first).toBe("voided")
    expect(await second).toBe("notPending")
  })
})
