import {
  type Account,
  Actor,
  type CreateTransaction,
  type Currency,
  Grant,
  type SummarizeTransactions,
  type Transaction,
  Transactions,
  type UserId,
} from "@txn/domain"
import { startCountingProxy, testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { maxGroupsKept } from "../src/transactions/summaryCache.ts"
import { accountOf, createUser, insertAccount, makeUseCases } from "./fixtures.ts"

/** One process's use cases: its own pool and, when `summaryCacheMax` is above 0, its own cache. */
const makeProcess = (url: Redacted.Redacted<string>, summaryCacheMax: number) =>
  makeUseCases(url, { maxConnections: 2, summaryCacheMax })

type Process = ReturnType<typeof makeProcess>

let reader: Process
let writer: Process
let proxy: Awaited<ReturnType<typeof startCountingProxy>>
beforeAll(async () => {
  const url = new URL(Redacted.value(testDatabaseUrl()))
  proxy = await startCountingProxy({ host: url.hostname, port: Number(url.port || 5432) })
  url.host = `127.0.0.1:${proxy.port}`
  reader = makeProcess(Redacted.make(url.href), 10)
  writer = makeProcess(testDatabaseUrl(), 0)
})
afterAll(async () => {
  await reader?.dispose()
  await writer?.dispose()
  await proxy?.close()
})

const run = <A, E>(on: Process, effect: Effect.Effect<A, E, Transactions>) =>
  on.runPromise(effect.pipe(Effect.provideService(Actor, "key_summary")))

const newAccount = async () => {
  const userId = await writer.runPromise(createUser)
  return writer.runPromise(insertAccount(accountOf(userId, { currency: "USD" as Currency })))
}

const create = (account: Account, input: Partial<CreateTransaction>) =>
  run(
    writer,
    Transactions.use((t) =>
      t.create(account.userId, {
        accountId: account.id,
        direction: "credit",
        amount: 100,
        currency: account.currency,
        ...input,
      } as CreateTransaction),
    ),
  ) as Promise<Transaction>

const byCategory: SummarizeTransactions = {
  groupBy: "category",
  occurredFrom: "2000-01-01T00:00:00.000Z",
  occurredTo: "2100-01-01T00:00:00.000Z",
}

const summary = (on: Process, userId: UserId, query = byCategory) =>
  run(
    on,
    Transactions.use((t) => t.summary(userId, query)),
  )

/** The reader's summary, checked against one computed afresh by a process that keeps none. */
const fresh = async (userId: UserId, query = byCategory) => {
  const served = await summary(reader, userId, query)
  expect(served).toEqual(await summary(writer, userId, query))
  return served
}

/**
 * Changes the account's amounts without the history event every write of the application makes:
 * a change the cache's rule cannot see, so what it serves afterwards shows whether it was kept.
 */
const changeUnseen = (account: Account) =>
  writer.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`update transactions set amount = amount + 1 where account_id = ${account.id}`
    }),
  )

describe("the summary cache", () => {
  it("serves a summary again with one probe of the history while nothing changed", async () => {
    const account = await newAccount()
    await create(account, { amount: 500, category: "groceries" })
    const first = await fresh(account.userId)
    await changeUnseen(account)
    const before = proxy.statements()
    // From memory: the only statement is the probe, and the unseen change is not in it.
    expect(await summary(reader, account.userId)).toEqual(first)
    expect(proxy.statements() - before).toBe(1)
    expect(await summary(writer, account.userId)).not.toEqual(first)
    // Another query, or the same one for another user, is another entry.
    await fresh(account.userId, { ...byCategory, groupBy: "month" })
    const other = await newAccount()
    expect((await fresh(other.userId)).groups).toEqual([])
  })

  it("keeps a client token's summary apart from its user's and from another token's", async () => {
    const account = await newAccount()
    const other = await writer.runPromise(
      insertAccount(accountOf(account.userId, { currency: "USD" as Currency })),
    )
    await create(account, { amount: 100 })
    await create(other, { amount: 7 })
    const within = (accountIds: ReadonlyArray<Account["id"]> | null) =>
      run(
        reader,
        Transactions.use((t) => t.summary(account.userId, byCategory)).pipe(
          Effect.provideService(Grant, { via: "token", accountIds }),
        ),
      ).then((summary) => summary.groups.map((group) => group.credits))
    expect(await within([account.id])).toEqual([100])
    expect(await within([other.id])).toEqual([7])
    expect(await within(null)).toEqual([107])
    expect(await within([account.id])).toEqual([100])
  })

  it("never serves a summary after a change made by another process", async () => {
    const account = await newAccount()
    await create(account, { amount: 500, category: "groceries" })
    let last = await fresh(account.userId)
    const changed = async () => {
      last = await fresh(account.userId)
    }
    await create(account, { amount: 40, direction: "debit", category: "groceries" })
    await changed()
    const hold = await create(account, { amount: 70, direction: "debit", status: "pending" })
    await changed()
    await run(
      writer,
      Transactions.use((t) =>
        t.post(account.userId, { id: hold.id, expectedVersion: hold.version }),
      ),
    )
    await changed()
    await run(
      writer,
      Transactions.use((t) =>
        t.update(account.userId, { id: hold.id, category: "rent", expectedVersion: 2 }),
      ),
    )
    await changed()
    expect(last.groups.map((group) => group.key)).toEqual(["groceries", "rent"])
    const second = await create(account, { amount: 30, direction: "debit", status: "pending" })
    await changed()
    await run(
      writer,
      Transactions.use((t) =>
        t.void(account.userId, { id: second.id, expectedVersion: second.version }),
      ),
    )
    await changed()
    await run(
      writer,
      Transactions.use((t) => t.reverse(account.userId, { id: hold.id, expectedVersion: 3 })),
    )
    await changed()
    expect(last.groups).toContainEqual(expect.objectContaining({ key: "rent", count: 2, net: 0 }))
  })

  it("sees a change that commits after a later one it has already counted", async () => {
    const account = await newAccount()
    // The same user's second account: the open create below holds the first one's row.
    const second = await writer.runPromise(
      insertAccount(accountOf(account.userId, { currency: "USD" as Currency })),
    )
    await create(account, { amount: 1 })
    // A create whose database transaction stays open until released: its event's xid is older
    // than the next create's, but it commits after it.
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let written: () => void = () => {}
    const wrote = new Promise<void>((resolve) => {
      written = resolve
    })
    const slow = writer.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            yield* Transactions.use((t) =>
              t.create(account.userId, {
                accountId: account.id,
                direction: "credit",
                amount: 1_000,
                currency: account.currency,
              }),
            )
            written()
            yield* Effect.promise(() => gate)
          }),
        )
      }).pipe(Effect.provideService(Actor, "key_summary")),
    )
    await wrote
    expect((await fresh(account.userId)).groups[0]).toMatchObject({ credits: 1, count: 1 })
    await create(second, { amount: 10 })
    expect((await fresh(account.userId)).groups[0]).toMatchObject({ credits: 11, count: 2 })
    release()
    await slow
    expect((await fresh(account.userId)).groups[0]).toMatchObject({ credits: 1_011, count: 3 })
  })

  it(`keeps no summary of more than ${maxGroupsKept} groups`, async () => {
    const account = await newAccount()
    await writer.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        // One posted credit on each of maxGroupsKept + 1 days, with their events.
        yield* sql`
          with inserted as (
            insert into transactions
              (id, user_id, account_id, direction, amount, currency, status, description,
               occurred_at, created_at, updated_at)
            select 'txn_' || left(md5(${account.id} || n), 26), ${account.userId}, ${account.id}, 'credit',
                   1, 'USD', 'posted', 'Day ' || n, timestamptz '2020-01-01' + n * interval '1 day',
                   now(), now()
              from generate_series(1, ${maxGroupsKept + 1}::int) n
            returning id, user_id, created_at
          )
          insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
          select id, user_id, 1, 'created', 'key_summary', '{}'::jsonb, created_at from inserted`
      }),
    )
    const byDay = { ...byCategory, groupBy: "day" as const }
    const first = await fresh(account.userId, byDay)
    expect(first.groups).toHaveLength(maxGroupsKept + 1)
    await changeUnseen(account)
    // Computed again: nothing was kept.
    expect(await fresh(account.userId, byDay)).not.toEqual(first)
  })
})
