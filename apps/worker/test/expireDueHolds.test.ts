import { Accounts, HoldScheduler } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { LogCapture } from "@txn/testing"
import type { Job } from "bullmq"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, expect, it } from "vitest"
import { expireDueHolds } from "../src/jobs/expireDueHolds.ts"
import { createAccount, createPrivateDatabase } from "./fixtures.ts"

let database: Awaited<ReturnType<typeof createPrivateDatabase>>
const app = (url: Awaited<ReturnType<typeof createPrivateDatabase>>["url"]) =>
  ManagedRuntime.make(
    makeAppLayer({
      databaseUrl: url,
      databasePoolMax: 2,
      holdScheduler: Layer.succeed(HoldScheduler, {
        schedule: () => Effect.void,
        scheduleMany: () => Effect.void,
      }),
      log: makeLog({ name: "worker", level: "warn", destination: new LogCapture() }),
    }),
  )
let appRuntime: ReturnType<typeof app>

beforeAll(async () => {
  database = await createPrivateDatabase("sweep")
  appRuntime = app(database.url)
})
afterAll(async () => {
  await appRuntime.dispose()
  await database.drop()
})

it("clears a backlog of overdue holds larger than one batch in a single sweep", async () => {
  const account = await appRuntime.runPromise(createAccount)
  const backlog = 1_234
  await appRuntime.runPromise(
    SqlClient.SqlClient.use(
      // Written the way the repository records a hold: the row, its ledger entry and the
      // account's pending debits, so voiding each one releases what it held.
      (sql) => sql`
        with inserted as (
          insert into transactions (id, account_id, user_id, direction, amount, currency, status,
                                    occurred_at, expires_at, metadata, version, created_at,
                                    updated_at)
          select 'txn_' || lpad(n::text, 26, '0'), ${account.id}, ${account.userId}, 'debit', 100,
                 ${account.currency}, 'pending', now(), now() - interval '1 minute', '{}'::jsonb,
                 1, now(), now()
            from generate_series(1, ${backlog}) as n
          returning id, account_id, amount, created_at
        ), entry as (
          insert into ledger_entries
            (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta,
             recorded_at)
          select account_id, id, 0, 0, amount, created_at from inserted
        )
        update accounts
           set pending_debits = pending_debits + (select sum(amount) from inserted)
         where id = ${account.id}`,
    ),
  )

  const result = await expireDueHolds(appRuntime)({ id: "sweep" } as Job)

  expect(result).toEqual({ voided: backlog })
  const [row] = await appRuntime.runPromise(
    SqlClient.SqlClient.use(
      (sql) => sql<{ pending: number }>`
        select count(*)::int as pending from transactions where status = 'pending'`,
    ),
  )
  expect(row?.pending).toBe(0)
  const balance = await appRuntime.runPromise(
    Accounts.use((accounts) => accounts.balance(account.userId, { id: account.id })),
  )
  expect(balance).toMatchObject({ posted: 0, pending: 0, available: 0 })
})
