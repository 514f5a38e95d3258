import {
  type Account,
  Actor,
  IdempotencyStore,
  TransactionRepository,
  type UserId,
} from "@txn/domain"
import { eventually } from "@txn/testing"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DatabaseError, PgIdempotencyStore } from "../src/index.ts"
import {
  accountOf,
  createUser,
  insertAccount,
  makeRuntime,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

/** The repositories and the idempotency store, whose `atomically` is a use case's transaction. */
let runtime: ManagedRuntime.ManagedRuntime<
  IdempotencyStore | TransactionRepository | SqlClient.SqlClient,
  never
>
let base: TestRuntime
/** Another session, to make the conflicts with. */
let other: TestRuntime
let userId: UserId
beforeAll(async () => {
  base = makeRuntime()
  other = makeRuntime()
  userId = await base.runPromise(createUser)
  runtime = ManagedRuntime.make(
    PgIdempotencyStore.layer.pipe(Layer.provideMerge(Layer.succeedContext(await base.context()))),
  )
})
afterAll(async () => {
  await runtime.dispose()
  await other.dispose()
  await base.dispose()
})

const newAccount = () => base.runPromise(insertAccount(accountOf(userId)))

const atomically = <A, E>(
  effect: Effect.Effect<A, E, SqlClient.SqlClient | TransactionRepository>,
) =>
  runtime.runPromiseExit(
    IdempotencyStore.use((store) => store.atomically(effect)).pipe(
      Effect.provideService(Actor, "key_retry"),
    ),
  )

const sqlOf = SqlClient.SqlClient

/** Commits a change to the account from another session, after this transaction's snapshot. */
const changedElsewhere = (account: Account) =>
  Effect.promise(() =>
    other.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql`update accounts set name = 'Elsewhere' where id = ${account.id}`,
      ),
    ),
  )

/**
 * One attempt that meets a real serialization failure when `conflict` says so: it reads the
 * account under REPEATABLE READ, another session changes it, then it changes it too (40001).
 */
const renaming = (account: Account, conflict: () => boolean) =>
  Effect.gen(function* () {
    const sql = yield* sqlOf
    yield* sql`set transaction isolation level repeatable read`
    yield* sql`select name from accounts where id = ${account.id}`
    if (conflict()) yield* changedElsewhere(account)
    yield* sql`update accounts set name = 'Mine' where id = ${account.id}`
  })

const nameOf = (account: Account) =>
  base.runPromise(
    SqlClient.SqlClient.use(
      (sql) => sql<{ readonly name: string }>`select name from accounts where id = ${account.id}`,
    ),
  )

const defectOf = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit)
    ? exit.cause.reasons.filter(Cause.isDieReason).map((reason) => reason.defect)[0]
    : undefined

describe("the database layer's retry of conflicts", () => {
  it("runs a transaction again after a real serialization failure; the caller sees success", async () => {
    const account = await newAccount()
    let attempts = 0
    const exit = await atomically(
      Effect.suspend(() => {
        attempts += 1
        return renaming(account, () => attempts === 1)
      }),
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(attempts).toBe(2)
    expect(await nameOf(account)).toEqual([{ name: "Mine" }])
  })

  it("runs a transaction again after a real deadlock with another session", async () => {
    const [a, b] = [await newAccount(), await newAccount()]
    let attempts = 0
    let otherSide: Promise<unknown> | undefined
    const lock = (sql: SqlClient.SqlClient, account: Account) =>
      sql`select id from accounts where id = ${account.id} for update`
    const exit = await atomically(
      Effect.gen(function* () {
        attempts += 1
        const sql = yield* sqlOf
        // This side finds the deadlock at once; the other would only after 10 s.
        yield* sql`set local deadlock_timeout = '50ms'`
        // The run again lets the other session finish first: racing it for a (its wait for a
        // wakes when the first attempt rolls back) could close the same cycle once more.
        if (attempts > 1) yield* Effect.promise(() => otherSide!)
        yield* lock(sql, a)
        if (attempts === 1) {
          otherSide = other.runPromise(
            SqlClient.SqlClient.use((sql) =>
              sql.withTransaction(
                Effect.gen(function* () {
                  yield* sql`set local deadlock_timeout = '10s'`
                  yield* lock(sql, b)
                  yield* sql`select id /* retry-test */ from accounts where id = ${a.id} for update`
                }),
              ),
            ),
          )
          // It holds b and waits for a: taking b now closes the cycle.
          yield* Effect.promise(() =>
            eventually(
              async () => {
                const waiting = await other.runPromise(
                  SqlClient.SqlClient.use(
                    (sql) => sql`
                      select 1 from pg_stat_activity
                       where wait_event_type = 'Lock' and query like '%/* retry-test */%'
                         and pid <> pg_backend_pid()`,
                  ),
                )
                return waiting.length > 0 ? true : undefined
              },
              { intervalMs: 10, what: "the other session to wait for the lock" },
            ),
          )
        }
        yield* lock(sql, b)
      }),
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(attempts).toBe(2)
    await otherSide
  })

  it("gives up after three retries: what still fails is a defect carrying the DatabaseError", async () => {
    const account = await newAccount()
    let attempts = 0
    const exit = await atomically(
      Effect.suspend(() => {
        attempts += 1
        return renaming(account, () => true)
      }),
    )
    expect(attempts).toBe(4)
    const defect = defectOf(exit)
    expect(defect).toBeInstanceOf(DatabaseError)
    expect(defect).toMatchObject({ sqlState: "40001", retryable: true })
  })

  it("never runs again for other database errors or for the use case's own failures", async () => {
    let attempts = 0
    const broken = await atomically(
      Effect.gen(function* () {
        attempts += 1
        const sql = yield* sqlOf
        yield* sql`select 1 / 0`
      }),
    )
    expect(attempts).toBe(1)
    expect(defectOf(broken)).toMatchObject({ sqlState: "22012", retryable: false })

    let refusals = 0
    const refused = await atomically(
      Effect.suspend(() => {
        refusals += 1
        return Effect.fail("InsufficientFunds" as const)
      }),
    )
    expect(refusals).toBe(1)
    expect(Exit.isFailure(refused) && Cause.findErrorOption(refused.cause)).toEqual(
      Option.some("InsufficientFunds"),
    )
  })

  it("runs the whole use case again when a repository inside it meets the conflict, writing once", async () => {
    const account = await newAccount()
    let attempts = 0
    const transaction = transactionOf(account, { direction: "credit", amount: 500 })
    const exit = await atomically(
      Effect.gen(function* () {
        attempts += 1
        const sql = yield* sqlOf
        yield* sql`set transaction isolation level repeatable read`
        yield* sql`select name from accounts where id = ${account.id}`
        if (attempts === 1) yield* changedElsewhere(account)
        // Locks the account changed since this snapshot: 40001 inside the repository.
        return yield* TransactionRepository.use((r) => r.insert(transaction))
      }),
    )
    expect(Exit.isSuccess(exit)).toBe(true)
    expect(attempts).toBe(2)
    const rows = await base.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql`
          select posted_balance::text as posted,
                 (select count(*)::int from transactions where account_id = ${account.id}) as count
            from accounts where id = ${account.id}`,
      ),
    )
    expect(rows).toEqual([{ posted: "500", count: 1 }])
  })
})
