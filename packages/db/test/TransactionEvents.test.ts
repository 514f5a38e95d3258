import {
  Actor,
  type ChangesPage,
  newTransactionId,
  type Transaction,
  TransactionRepository,
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
  insertRawTransaction,
  makeRuntime,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

const asActor = <A, E, R>(actor: string, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provideService(Actor, actor))

const newAccount = async () => {
  const userId = await runtime.runPromise(createUser)
  // Not about balances: debits go through unfunded.
  return runtime.runPromise(insertAccount(accountOf(userId, { allowNegative: true })))
}

const insert = (transaction: Transaction, actor = "key_test") =>
  runtime.runPromise(
    asActor(
      actor,
      TransactionRepository.use((r) => r.insert(transaction)),
    ),
  )

const historyOf = async (userId: UserId, id: Transaction["id"]) =>
  Option.getOrThrow(
    await runtime.runPromise(TransactionRepository.use((r) => r.history(userId, id))),
  )

const changes = (userId: UserId, cursor?: string) =>
  runtime.runPromise(
    TransactionRepository.use((r) =>
      r.changes(userId, cursor === undefined ? { limit: 200 } : { cursor, limit: 200 }),
    ),
  )

describe("transaction events", () => {
  it("records creation, each update with what changed, and expiry, each with its actor", async () => {
    const account = await newAccount()
    const created = await insert(
      transactionOf(account, {
        status: "pending",
        expiresAt: "2999-01-01T00:00:00.000Z",
        description: "Deposit",
      }),
      "key_creator",
    )
    const now = new Date("2026-06-01T00:00:00.000Z")
    await runtime.runPromise(
      asActor(
        "key_editor",
        TransactionRepository.use((r) =>
          r.update(
            account.userId,
            {
              id: created.id,
              expectedVersion: 1,
              description: "Hotel deposit",
              category: "travel",
            },
            now,
          ),
        ),
      ),
    )
    await runtime.runPromise(
      asActor(
        "worker",
        TransactionRepository.use((r) => r.expire(created.id, new Date("2999-01-01T00:00:01Z"))),
      ),
    )

    const events = await historyOf(account.userId, created.id)
    expect(events.map((e) => [e.version, e.kind, e.actor])).toEqual([
      [1, "created", "key_creator"],
      [2, "updated", "key_editor"],
      [3, "expired", "worker"],
    ])
    expect(events[0]?.changes.amount).toEqual({ from: null, to: created.amount })
    expect(events[0]?.changes.description).toEqual({ from: null, to: "Deposit" })
    expect(events[1]?.changes).toEqual({
      description: { from: "Deposit", to: "Hotel deposit" },
      category: { from: null, to: "travel" },
    })
    expect(events[1]?.at).toBe(now.toISOString())
    expect(events[2]?.changes).toEqual({ status: { from: "pending", to: "voided" } })
  })

  it("writes no event for an update refused by a stale version", async () => {
    const account = await newAccount()
    const created = await insert(transactionOf(account))
    const refused = await runtime.runPromise(
      TransactionRepository.use((r) =>
        r.update(account.userId, { id: created.id, expectedVersion: 7, category: "x" }, new Date()),
      ),
    )
    expect(Option.isNone(refused)).toBe(true)
    expect((await historyOf(account.userId, created.id)).map((e) => e.kind)).toEqual(["created"])
  })

  it("keeps events immutable: the database refuses to change or delete one", async () => {
    const account = await newAccount()
    const created = await insert(transactionOf(account))
    for (const statement of [
      (sql: SqlClient.SqlClient) =>
        sql`update transaction_events set actor = 'forged' where transaction_id = ${created.id}`,
      (sql: SqlClient.SqlClient) =>
        sql`delete from transaction_events where transaction_id = ${created.id}`,
    ]) {
      const exit = await runtime.runPromiseExit(SqlClient.SqlClient.use(statement))
      expect(exit._tag).toBe("Failure")
    }
    expect((await historyOf(account.userId, created.id))[0]?.actor).toBe("key_test")
  })

  it("shows a user only their own events", async () => {
    const mine = await newAccount()
    const theirs = await newAccount()
    const own = await insert(transactionOf(mine))
    const foreign = await insert(transactionOf(theirs))
    const none = await runtime.runPromise(
      TransactionRepository.use((r) => r.history(mine.userId, foreign.id)),
    )
    expect(Option.isNone(none)).toBe(true)
    const feed = await eventually(async () => {
      const page = await changes(mine.userId)
      return page.items.length > 0 ? page : undefined
    })
    expect(feed.items.map((e) => e.transactionId)).toEqual([own.id])
  })
})

describe("the change feed", () => {
  it("pages with its cursor and hands back a cursor to poll from once caught up", async () => {
    const account = await newAccount()
    const first = await insert(transactionOf(account))
    const second = await insert(transactionOf(account))
    const all = await eventually(async () => {
      const page = await changes(account.userId)
      return page.items.length === 2 ? page : undefined
    })
    expect(all.items.map((e) => e.transactionId)).toEqual([first.id, second.id])
    expect(all.hasMore).toBe(false)
    const caughtUp = await changes(account.userId, all.nextCursor!)
    expect(caughtUp).toEqual({ items: [], hasMore: false, nextCursor: all.nextCursor })

    const third = await insert(transactionOf(account))
    const next = await eventually(async () => {
      const page = await changes(account.userId, all.nextCursor!)
      return page.items.length > 0 ? page : undefined
    })
    expect(next.items.map((e) => e.transactionId)).toEqual([third.id])
  })

  it("orders by transaction id and sequence as numbers, across powers of ten, page after page", async () => {
    const account = await newAccount()
    const [first, second, third] = [newTransactionId(), newTransactionId(), newTransactionId()]
    for (const id of [first, second, third]) {
      expect((await insertRawTransaction(runtime, account, { id })).rejected).toBe(false)
    }
    // Written by hand, with the writer's transaction id and the sequence number given: the feed's
    // order must come from these numbers, whatever order the rows were inserted in. Text order
    // ('10' < '100' < '9') and insertion order (seq) both disagree with it. Every xid is below
    // any cluster's oldest running transaction, so all of them are visible to the feed at once.
    const big = 999_999_999_999
    const events = [
      { transactionId: third, version: 1, xid: 101, seq: big },
      { transactionId: third, version: 2, xid: 101, seq: big + 1 },
      { transactionId: first, version: 3, xid: 100, seq: big + 5 },
      { transactionId: second, version: 1, xid: 99, seq: big + 6 },
      { transactionId: first, version: 2, xid: 10, seq: big + 7 },
      { transactionId: second, version: 2, xid: 100, seq: big + 2 },
      { transactionId: first, version: 1, xid: 9, seq: big + 8 },
    ]
    await runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        Effect.forEach(
          events,
          (e) => sql`
            insert into transaction_events
              (seq, transaction_id, user_id, version, kind, actor, changes, at, xid)
            overriding system value
            values (${e.seq}, ${e.transactionId}, ${account.userId}, ${e.version},
                    ${e.version === 1 ? "created" : "updated"}, 'key_test', '{}'::jsonb, now(),
                    ${String(e.xid)}::xid8)`,
        ),
      ).pipe(Effect.orDie),
    )
    const expected = [...events].sort((a, b) => a.xid - b.xid || a.seq - b.seq)

    const seen: Array<{ transactionId: string; version: number; seq: number }> = []
    let cursor: string | undefined
    for (let pages = 0; pages < 20; pages++) {
      const page = await runtime.runPromise(
        TransactionRepository.use((r) =>
          r.changes(account.userId, cursor === undefined ? { limit: 2 } : { cursor, limit: 2 }),
        ),
      )
      seen.push(...page.items)
      cursor = page.nextCursor ?? undefined
      if (!page.hasMore) break
    }
    expect(seen.map((e) => [e.transactionId, e.version, e.seq])).toEqual(
      expected.map((e) => [e.transactionId, e.version, e.seq]),
    )
  })

  it("never skips an event whose transaction commits after a later-numbered one was read", async () => {
    const account = await newAccount()
    // A second account of the same user for "slow": inserts lock their account's row, so two
    // open transactions posting to one account would wait on each other.
    const slowAccount = await runtime.runPromise(
      insertAccount(accountOf(account.userId, { allowNegative: true })),
    )
    let releaseSlow!: () => void
    const slowMayCommit = new Promise<void>((resolve) => {
      releaseSlow = resolve
    })
    let slowWrote!: (id: string) => void
    const slowHasWritten = new Promise<string>((resolve) => {
      slowWrote = resolve
    })
    let fastHasXid!: () => void
    const fastStarted = new Promise<void>((resolve) => {
      fastHasXid = resolve
    })
    let fastMayWrite!: () => void
    const fastGo = new Promise<void>((resolve) => {
      fastMayWrite = resolve
    })

    const inTransaction = <A, E>(
      body: Effect.Effect<A, E, TransactionRepository | SqlClient.SqlClient>,
    ) =>
      runtime.runPromise(
        SqlClient.SqlClient.use((sql) => sql.withTransaction(body)).pipe(Effect.orDie),
      )

    // "fast" takes its transaction id first, but writes its event only after "slow" wrote one.
    const fast = inTransaction(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`select pg_current_xact_id()::text`.pipe(Effect.orDie)
        fastHasXid()
        yield* Effect.promise(() => fastGo)
        return yield* TransactionRepository.use((r) => r.insert(transactionOf(account)))
      }),
    )
    await fastStarted
    // "slow" gets a later transaction id and the lower seq, and commits last.
    const slow = inTransaction(
      Effect.gen(function* () {
        const inserted = yield* TransactionRepository.use((r) =>
          r.insert(transactionOf(slowAccount)),
        )
        slowWrote(inserted.id)
        yield* Effect.promise(() => slowMayCommit)
        return inserted
      }),
    )
    const slowId = await slowHasWritten
    fastMayWrite()
    const fastTransaction = await fast

    // "fast" has committed and is older than "slow", which is still open: it shows, "slow" not.
    const seen: Array<string> = []
    const page = await eventually(async () => {
      const first = await changes(account.userId)
      return first.items.length > 0 ? first : undefined
    })
    seen.push(...page.items.map((e) => e.transactionId))
    expect(seen).toEqual([fastTransaction.id])
    expect(seen).not.toContain(slowId)

    releaseSlow()
    const slowTransaction = await slow
    let cursor: string | null = page.nextCursor
    const rest: ChangesPage = await eventually(async () => {
      const next = await changes(account.userId, cursor ?? undefined)
      return next.items.some((e) => e.transactionId === slowTransaction.id) ? next : undefined
    })
    seen.push(...rest.items.map((e) => e.transactionId))
    cursor = rest.nextCursor
    expect(seen.sort()).toEqual([fastTransaction.id, slowTransaction.id].sort())
  })
})
