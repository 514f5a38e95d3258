import { randomBytes } from "node:crypto"
import { eventually, testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Migrator from "effect/sql/Migrator"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createDatabase, dropDatabase, migrations } from "../src/index.ts"
import * as PgOutbox from "../src/PgOutbox.ts"
import {
  accountOf,
  createUser,
  insertAccount,
  insertTransaction,
  makeRuntime,
  type TestRuntime,
  transactionOf,
} from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

const query = <A extends object>(text: string, ...params: Array<unknown>) =>
  runtime.runPromise(SqlClient.SqlClient.use((sql) => sql.unsafe<A>(text, params)))

describe("history event ids", () => {
  const seqs = ["0", "1", "35", "36", "1295", "1000000000000", "9223372036854775807"]

  it("are derived from the sequence number the same way in TypeScript and SQL, and back", async () => {
    for (const seq of seqs) {
      const id = PgOutbox.historyEventId(seq)
      expect(id).toMatch(/^evt_[0-9a-z]{26}$/)
      const [row] = await query<{ id: string; seq: string }>(
        "select txn_event_id($1::bigint) as id, txn_event_seq(txn_event_id($1::bigint))::text as seq",
        seq,
      )
      expect(row).toEqual({ id, seq })
      expect(PgOutbox.historySeqOf(id)).toBe(seq)
    }
  })

  it("sort as their sequence numbers do", () => {
    const ids = seqs.map((seq) => PgOutbox.historyEventId(seq))
    expect([...ids].sort()).toEqual(ids)
  })

  it("are never an outbox event's id, and an outbox id never reads as one", async () => {
    const [row] = await query<{ id: string; seq: string | null }>(
      "select txn_random_id('evt') as id, txn_event_seq(txn_random_id('evt'))::text as seq",
    )
    expect(row!.seq).toBeNull()
    expect(PgOutbox.historySeqOf(row!.id)).toBeUndefined()
    expect(PgOutbox.historySeqOf(`evt_${randomBytes(13).toString("hex")}`)).toBeUndefined()
    // Past the largest bigint: no sequence number.
    expect(PgOutbox.historySeqOf("evt_tzzzzzzzzzzzzzzzzzzzzzzzzz")).toBeUndefined()
  })
})

describe("moving to the history relay", () => {
  const server = new URL(Redacted.value(testDatabaseUrl()))
  const name = `${server.pathname.slice(1)}_history_${randomBytes(4).toString("hex")}`
  const own = new URL(server.href)
  own.pathname = `/${name}`
  let db: TestRuntime

  beforeAll(async () => {
    await createDatabase(server.href, name)
    db = makeRuntime(Redacted.make(own.href))
  })
  afterAll(async () => {
    await db.dispose()
    await dropDatabase(server.href, name)
  })

  const migrateUpTo = (last: number) =>
    Migrator.make({})({
      loader: migrations.pipe(Effect.map((all) => all.filter(([id]) => id <= last))),
      table: "txn_migrations",
    })

  it("keeps relaying from the outbox what was written before it, and takes what follows from the history, each once", async () => {
    const before = await db.runPromise(
      Effect.gen(function* () {
        yield* migrateUpTo(15)
        const userId = yield* createUser
        const account = accountOf(userId, { allowNegative: true })
        yield* insertAccount(account)
        const relayedEarlier = yield* insertTransaction(transactionOf(account))
        const waiting = yield* insertTransaction(transactionOf(account))
        const sql = yield* SqlClient.SqlClient
        // One of them was handed to the queue already, the other not yet.
        yield* sql`
          update outbox set relayed_at = now() - interval '1 hour'
           where data -> 'transaction' ->> 'id' = ${relayedEarlier.id}`
        return { account, relayedEarlier, waiting }
      }),
    )
    const after = await db.runPromise(
      Effect.gen(function* () {
        yield* migrateUpTo(Number.MAX_SAFE_INTEGER)
        return yield* insertTransaction(transactionOf(before.account))
      }),
    )
    // Only below the oldest transaction running on the server: another one may hold it back.
    const claimed = await eventually(async () => {
      const found = await claimOnce()
      return found.history.length > 0 ? found : undefined
    })
    // The one handed over an hour ago and never dispatched comes back as stale.
    expect(claimed.outbox.sort()).toEqual([before.relayedEarlier.id, before.waiting.id].sort())
    expect(claimed.stale).toBe(1)
    expect(claimed.history).toEqual([after.id])
    const [outboxRows] = await db.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly n: number }>`
          select count(*)::int as n from outbox where data -> 'transaction' ->> 'id' = ${after.id}`,
      ),
    )
    expect(outboxRows!.n).toBe(0)
  })

  const claimOnce = () =>
    db.runPromise(
      SqlClient.SqlClient.use((sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            const fromOutbox = yield* PgOutbox.claimForRelay(100, 60_000)
            const fromHistory = yield* PgOutbox.claimHistory(100)
            const outboxIds = fromOutbox.map((event) => event.id)
            const transactions = yield* sql<{ readonly id: string }>`
              select data -> 'transaction' ->> 'id' as id from outbox
               where id in ${sql.in(outboxIds)} and type like 'transaction.%'
               order by outbox.seq`
            const history =
              fromHistory.length === 0
                ? []
                : yield* sql<{ readonly id: string }>`
                    select transaction_id as id from transaction_events
                     where seq in ${sql.in(fromHistory.map((event) => event.seq))}`
            return {
              outbox: transactions.map((row) => row.id),
              stale: fromOutbox.filter((event) => event.stale).length,
              history: history.map((row) => row.id),
            }
          }),
        ),
      ),
    )
})
