import { randomBytes } from "node:crypto"
import { rm } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import {
  Actor,
  type Transaction,
  type TransactionEvent,
  TransactionRepository,
  type UserId,
} from "@txn/domain"
import { freePort } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../src/EmbeddedPostgres.ts"
import { migrate } from "../src/index.ts"
import * as PgDatabase from "../src/PgDatabase.ts"
import {
  accountOf,
  createUser,
  insertAccount,
  makeRuntime,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

// A cluster of its own, freshly made, so its transaction ids start low and this test can push
// them across powers of ten (the shared test server's ids are wherever other runs left them).
// Under the repository, not /tmp: as root PostgreSQL runs as `postgres`, which must be able to
// traverse every parent directory of its data.
const root = fileURLToPath(
  new URL(`../../../.data/test-feed-${randomBytes(6).toString("hex")}`, import.meta.url),
)
const boundaries = [1_000, 10_000, 100_000]
const writers = 4

let db: EmbeddedDatabase
let runtime: TestRuntime
let admin: pg.Client

beforeAll(async () => {
  db = await startEmbeddedPostgres({ dataDir: root, port: await freePort(), database: "feed" })
  await Effect.runPromise(
    migrate.pipe(Effect.provide(PgDatabase.layer({ url: db.url, maxConnections: 1 }))),
  )
  runtime = makeRuntime(db.url)
  admin = new pg.Client({ connectionString: Redacted.value(db.url) })
  await admin.connect()
  // Only transaction ids are being spent here: no need to wait for each commit to reach disk.
  await admin.query("set synchronous_commit = off")
}, 120_000)

afterAll(async () => {
  await admin?.end()
  await runtime?.dispose()
  await db?.stop()
  await rm(root, { recursive: true, force: true })
})

const currentXid = async () =>
  Number(
    (await admin.query<{ xid: string }>("select pg_current_xact_id()::text as xid")).rows[0]?.xid,
  )

/** Spends `count` transaction ids, one committed transaction each. */
const burn = (count: number) =>
  admin.query(
    `do $$ begin for i in 1..${Math.max(0, Math.floor(count))} loop perform pg_current_xact_id(); commit; end loop; end $$`,
  )

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const run = <A, E>(effect: Effect.Effect<A, E, TransactionRepository>) =>
  runtime.runPromise(effect.pipe(Effect.provideService(Actor, "key_feed")))

/** Writes one transaction in three database transactions: created, updated, posted. */
const writeOne = async (account: ReturnType<typeof accountOf>) => {
  const created = await run(
    TransactionRepository.use((r) =>
      r.insert(transactionOf(account, { status: "pending", direction: "credit" })),
    ),
  )
  const now = new Date()
  await run(
    TransactionRepository.use((r) =>
      r.update(account.userId, { id: created.id, expectedVersion: 1, description: "edited" }, now),
    ),
  )
  await run(
    TransactionRepository.use((r) => r.transition(account.userId, created.id, 2, "posted", now)),
  )
  return created
}

const readPage = (userId: UserId, cursor: string | undefined) =>
  run(
    TransactionRepository.use((r) =>
      r.changes(userId, cursor === undefined ? { limit: 7 } : { cursor, limit: 7 }),
    ),
  )

describe("the change feed while transaction ids cross powers of ten", () => {
  it("hands every event once, in commit order, to a reader paging as writers write", async () => {
    const userId = await runtime.runPromise(createUser)
    const accounts = await Promise.all(
      Array.from({ length: writers }, () =>
        runtime.runPromise(insertAccount(accountOf(userId, { allowNegative: true }))),
      ),
    )
    const startXid = await currentXid()

    let writing = true
    const written: Array<Transaction> = []
    const writing$ = Promise.all(
      accounts.map(async (account) => {
        for (let i = 0; writing && i < 500; i++) written.push(await writeOne(account))
      }),
    )

    const seen: Array<TransactionEvent> = []
    let cursor: string | undefined
    let reading = true
    const reading$ = (async () => {
      const deadline = Date.now() + 120_000
      while (reading && Date.now() < deadline) {
        const page = await readPage(userId, cursor)
        seen.push(...page.items)
        cursor = page.nextCursor ?? cursor
        if (!page.hasMore) await sleep(10)
      }
    })()

    // Spend ids up to just below each boundary, then across it in small steps, so writers and
    // the reader are busy on both sides of it.
    try {
      for (const boundary of boundaries) {
        const now = await currentXid()
        if (now >= boundary) continue
        await burn(boundary - 40 - now)
        for (let steps = 0; steps < 200 && (await currentXid()) < boundary + 40; steps++) {
          await burn(5)
          await sleep(5)
        }
      }
      await sleep(200)
    } finally {
      writing = false
      await writing$
    }

    // Drain what is left, then stop the reader.
    const total = Number(
      (
        await admin.query<{ count: string }>(
          "select count(*)::text as count from transaction_events where user_id = $1",
          [userId],
        )
      ).rows[0]?.count,
    )
    for (let tries = 0; tries < 500 && seen.length < total; tries++) await sleep(20)
    reading = false
    await reading$

    const stored = (
      await admin.query<{ seq: string; xid: string }>(
        "select seq::text as seq, xid::text as xid from transaction_events where user_id = $1",
        [userId],
      )
    ).rows.map((row) => ({ seq: Number(row.seq), xid: Number(row.xid) }))
    // The run really did cross the boundaries: events on both sides of each one it started below.
    for (const boundary of boundaries.filter((b) => b > startXid)) {
      expect(stored.some((e) => e.xid < boundary)).toBe(true)
      expect(stored.some((e) => e.xid >= boundary)).toBe(true)
    }
    expect(boundaries.filter((b) => b > startXid).length).toBeGreaterThanOrEqual(2)
    expect(written.length * 3).toBe(total)

    // Each event exactly once, in (xid, seq) order as numbers.
    const xidOf = new Map(stored.map((e) => [e.seq, e.xid]))
    const expectedOrder = [...stored]
      .sort((a, b) => a.xid - b.xid || a.seq - b.seq)
      .map((e) => e.seq)
    expect(seen.map((e) => e.seq)).toEqual(expectedOrder)
    expect(seen.every((e) => xidOf.has(e.seq))).toBe(true)

    // Per transaction: versions 1, 2, 3 in that order.
    const versions = new Map<string, Array<number>>()
    for (const event of seen) {
      versions.set(event.transactionId, [
        ...(versions.get(event.transactionId) ?? []),
        event.version,
      ])
    }
    expect(versions.size).toBe(written.length)
    for (const list of versions.values()) expect(list).toEqual([1, 2, 3])
  }, 180_000)
})
