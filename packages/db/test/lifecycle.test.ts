import {
  type Account,
  Actor,
  newTransactionId,
  type Transaction,
  type TransactionId,
  TransactionRepository,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  accountOf,
  createUser,
  insertAccount,
  insertRawTransaction,
  insertTransaction,
  makeRuntime,
  outcome,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

let runtime: TestRuntime
let userId: UserId
let account: Account
beforeAll(async () => {
  runtime = makeRuntime()
  userId = await runtime.runPromise(createUser)
  // Not about balances: debits go through unfunded.
  account = await runtime.runPromise(insertAccount(accountOf(userId, { allowNegative: true })))
})
afterAll(() => runtime.dispose())

const insert = (fields: Partial<Transaction> = {}) =>
  runtime.runPromise(insertTransaction(transactionOf(account, fields)))
const findById = async (id: TransactionId) =>
  Option.getOrThrow(
    await runtime.runPromise(TransactionRepository.use((r) => r.findById(userId, id))),
  )
const history = async (id: TransactionId) =>
  Option.getOrThrow(
    await runtime.runPromise(TransactionRepository.use((r) => r.history(userId, id))),
  )
const transition = (
  id: TransactionId,
  expectedVersion: number,
  to: "posted" | "voided",
  now = new Date("2026-03-01T10:00:00.000Z"),
  owner = userId,
) =>
  runtime.runPromise(
    TransactionRepository.use((r) => r.transition(owner, id, expectedVersion, to, now)).pipe(
      Effect.provideService(Actor, "key_x"),
    ),
  )
/** The reversal `Transactions.reverse` would record for `original`. */
const reversalOf = (original: Transaction, fields: Partial<Transaction> = {}) =>
  transactionOf(account, {
    direction: original.direction === "debit" ? "credit" : "debit",
    amount: original.amount,
    status: "posted",
    reversalOf: original.id,
    occurredAt: "2026-03-01T10:00:00.000Z",
    createdAt: "2026-03-01T10:00:00.000Z",
    updatedAt: "2026-03-01T10:00:00.000Z",
    ...fields,
  })
const reverse = (
  expectedVersion: number,
  reversal: Transaction,
  owner = userId,
  now = new Date("2026-03-01T10:00:00.000Z"),
) =>
  runtime.runPromise(
    TransactionRepository.use((r) => r.reverse(owner, expectedVersion, reversal, now)).pipe(
      Effect.provideService(Actor, "key_x"),
    ),
  )

// Raw SQL on purpose: these are the database's own guarantees, whatever the repositories do.
const insertRaw = (fields: Record<string, unknown> = {}) =>
  insertRawTransaction(runtime, account, fields)
/** `assignment` is a fixed string of the test's own, never input. */
const updateRaw = (id: TransactionId, assignment: string) =>
  outcome(
    runtime,
    SqlClient.SqlClient.use(
      (sql) => sql`update transactions set ${sql.literal(assignment)} where id = ${id}`,
    ),
  )

const check = (constraint: string) => ({ rejected: true, code: "23514", constraint })
const accepted = { rejected: false }

describe("database constraints on the lifecycle", () => {
  it("rejects status 'reversed' without reversed_by, and reversed_by on a row not reversed", async () => {
    expect(await insertRaw({ status: "reversed" })).toEqual(check("transactions_reversed_check"))
    const posted = await insert()
    const reversal = await insert(reversalOf(posted))
    expect(await insertRaw({ status: "posted", reversedBy: reversal.id })).toEqual(
      check("transactions_reversed_check"),
    )
    expect(await updateRaw(posted.id, "status = 'reversed'")).toEqual(
      check("transactions_reversed_check"),
    )
    expect((await findById(posted.id)).status).toBe("posted")
  })

  it("rejects a reversal that is not posted, or that reverses itself", async () => {
    const posted = await insert()
    for (const status of ["pending", "voided"]) {
      expect(await insertRaw({ status, reversalOf: posted.id })).toEqual(
        check("transactions_reversal_check"),
      )
    }
    const self = newTransactionId()
    expect(await insertRaw({ id: self, reversalOf: self })).toEqual(
      check("transactions_reversal_check"),
    )
    const reversal = await insert(reversalOf(posted))
    expect(await updateRaw(reversal.id, "status = 'pending'")).toEqual(
      check("transactions_reversal_check"),
    )
  })

  it("rejects a second reversal of one original by the unique index", async () => {
    const posted = await insert()
    expect(await insertRaw({ direction: "credit", reversalOf: posted.id })).toEqual(accepted)
    expect(await insertRaw({ direction: "credit", reversalOf: posted.id })).toEqual({
      rejected: true,
      code: "23505",
      constraint: "transactions_reversal_of_key",
    })
  })

  it("rejects links to a transaction that does not exist", async () => {
    expect(await insertRaw({ reversalOf: newTransactionId() })).toMatchObject({
      rejected: true,
      code: "23503",
    })
    expect(await insertRaw({ status: "reversed", reversedBy: newTransactionId() })).toMatchObject({
      rejected: true,
      code: "23503",
    })
  })
})

describe("PgTransactionRepository.transition", () => {
  it("posts a pending transaction: version + 1, expiresAt cleared, a posted event by the actor", async () => {
    const held = await insert({ status: "pending", expiresAt: "2026-03-02T00:00:00.000Z" })
    const now = new Date("2026-03-01T10:00:00.000Z")
    const result = await transition(held.id, 1, "posted", now)
    const expected = {
      ...held,
      status: "posted",
      version: 2,
      expiresAt: null,
      updatedAt: now.toISOString(),
    }
    expect(result).toEqual({ _tag: "Done", value: expected })
    expect(await findById(held.id)).toEqual(expected)
    const events = await history(held.id)
    expect(events.map((e) => [e.version, e.kind, e.actor])).toEqual([
      [1, "created", "system"],
      [2, "posted", "key_x"],
    ])
    expect(events[1]!.changes).toEqual({
      status: { from: "pending", to: "posted" },
      expiresAt: { from: held.expiresAt, to: null },
    })
  })

  it("voids a pending transaction and keeps its expiresAt", async () => {
    const held = await insert({ status: "pending", expiresAt: "2026-03-02T00:00:00.000Z" })
    const result = await transition(held.id, 1, "voided")
    expect(result).toMatchObject({
      _tag: "Done",
      value: { status: "voided", version: 2, expiresAt: "2026-03-02T00:00:00.000Z" },
    })
    const events = await history(held.id)
    expect(events.map((e) => [e.kind, e.actor])).toEqual([
      ["created", "system"],
      ["voided", "key_x"],
    ])
    expect(events[1]!.changes).toEqual({ status: { from: "pending", to: "voided" } })
  })

  it("answers Missing for an unknown id and for another user's transaction", async () => {
    expect(await transition(newTransactionId(), 1, "posted")).toEqual({ _tag: "Missing" })
    const held = await insert({ status: "pending" })
    const other = await runtime.runPromise(createUser)
    expect(await transition(held.id, 1, "posted", undefined, other)).toEqual({ _tag: "Missing" })
    expect(await findById(held.id)).toEqual(held)
  })

  it.each([
    ["a stale version", "pending", 2],
    ["a posted transaction", "posted", 1],
    ["a voided transaction", "voided", 1],
  ] as const)("refuses %s with the row as it is, changing nothing", async (_, status, version) => {
    const row = await insert({ status })
    for (const to of ["posted", "voided"] as const) {
      expect(await transition(row.id, version, to)).toEqual({ _tag: "Refused", current: row })
    }
    expect(await findById(row.id)).toEqual(row)
    expect((await history(row.id)).map((e) => e.kind)).toEqual(["created"])
  })

  it("lets exactly one of a concurrent post and void through", async () => {
    const held = await insert({ status: "pending" })
    const results = await Promise.all([
      transition(held.id, 1, "posted"),
      transition(held.id, 1, "voided"),
    ])
    const done = results.filter((r) => r._tag === "Done")
    expect(done).toHaveLength(1)
    const final = await findById(held.id)
    expect(results.filter((r) => r._tag === "Refused")).toEqual([
      { _tag: "Refused", current: final },
    ])
    expect(final.version).toBe(2)
  })
})

describe("PgTransactionRepository.reverse", () => {
  it("records the reversal and marks the original reversed, with both events", async () => {
    const original = await insert({ direction: "debit", amount: 4_000 })
    const reversal = reversalOf(original)
    const now = new Date("2026-03-01T11:00:00.000Z")
    const result = await reverse(1, reversal, userId, now)
    const reversed = {
      ...original,
      status: "reversed",
      reversedBy: reversal.id,
      version: 2,
      updatedAt: now.toISOString(),
    }
    expect(result).toEqual({ _tag: "Done", value: { original: reversed, reversal } })
    expect(await findById(original.id)).toEqual(reversed)
    expect(await findById(reversal.id)).toEqual(reversal)
    const events = await history(original.id)
    expect(events.map((e) => [e.version, e.kind, e.actor])).toEqual([
      [1, "created", "system"],
      [2, "reversed", "key_x"],
    ])
    expect(events[1]!.changes).toEqual({
      status: { from: "posted", to: "reversed" },
      reversedBy: { from: null, to: reversal.id },
    })
    expect((await history(reversal.id)).map((e) => [e.kind, e.actor])).toEqual([
      ["created", "key_x"],
    ])
  })

  it("answers Missing for an unknown original and for another user's", async () => {
    const ghost = transactionOf(account)
    expect(await reverse(1, reversalOf(ghost))).toEqual({ _tag: "Missing" })
    const original = await insert()
    const other = await runtime.runPromise(createUser)
    const reversal = reversalOf(original, { userId: other })
    expect(await reverse(1, reversal, other)).toEqual({ _tag: "Missing" })
    expect(await findById(original.id)).toEqual(original)
  })

  it("refuses a stale version, a pending, voided or reversed original and a reversal, inserting nothing", async () => {
    const posted = await insert()
    const pending = await insert({ status: "pending" })
    const voided = await insert({ status: "voided" })
    const reversedOriginal = await insert()
    const first = reversalOf(reversedOriginal)
    await reverse(1, first)
    const reversed = await findById(reversedOriginal.id)
    const aReversal = await findById(first.id)
    for (const [current, version] of [
      [posted, 2],
      [pending, 1],
      [voided, 1],
      [reversed, 2],
      [aReversal, 1],
    ] as const) {
      const attempt = reversalOf(current)
      expect(await reverse(version, attempt)).toEqual({ _tag: "Refused", current })
      expect(await findById(current.id)).toEqual(current)
      expect(
        await runtime.runPromise(TransactionRepository.use((r) => r.findById(userId, attempt.id))),
      ).toEqual(Option.none())
    }
  })

  it("of 10 concurrent reversals of one original, exactly one is done", async () => {
    const original = await insert()
    const results = await Promise.all(
      Array.from({ length: 10 }, () => reverse(1, reversalOf(original))),
    )
    const done = results.filter((r) => r._tag === "Done")
    expect(done).toHaveLength(1)
    const final = await findById(original.id)
    expect(results.filter((r) => r._tag === "Refused")).toEqual(
      Array.from({ length: 9 }, () => ({ _tag: "Refused", current: final })),
    )
    const [row] = await runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) =>
          sql<{ readonly count: string }>`
            select count(*)::text as count from transactions where reversal_of = ${original.id}`,
      ),
    )
    expect(row?.count).toBe("1")
  })
})
