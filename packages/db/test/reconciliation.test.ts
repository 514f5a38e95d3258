import { newTransactionId } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PgMaintenance } from "../src/index.ts"
import { accountOf, createUser, insertAccount, makeRuntime, type TestRuntime } from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

describe("reconciliation", () => {
  it("records a mismatch whose sum of postings is beyond any bigint, rather than failing", async () => {
    const userId = await runtime.runPromise(createUser)
    const account = await runtime.runPromise(insertAccount(accountOf(userId)))
    // 1025 postings of 2^53-1 written behind the balances' back: their sum passes 2^63-1.
    const prefix = newTransactionId().slice(0, 24)
    const seen = await runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              yield* sql`
                insert into transactions
                  (id, account_id, user_id, direction, amount, currency, status,
                   occurred_at, created_at, updated_at)
                select ${prefix} || lpad(to_hex(g), 6, '0'), ${account.id}, ${userId}, 'credit',
                       9007199254740991, 'EUR', 'posted', now(), now(), now()
                  from generate_series(1, 1025) g`
              const run = yield* PgMaintenance.reconcileBalances
              const recorded = yield* sql<Record<string, string>>`
                select field, stored::text as stored, from_transactions::text as from_transactions,
                       from_ledger::text as from_ledger
                  from reconciliation_mismatches
                 where run_id = ${run.runId} and account_id = ${account.id}`
              // Rolled back: the test's rows never disturb other reconciliations.
              return yield* Effect.fail({
                found: run.mismatches.filter((m) => m.accountId === account.id),
                recorded,
              })
            }),
          )
          .pipe(Effect.flip),
      ),
    )
    const sum = String(1025n * 9007199254740991n)
    expect(seen).toEqual({
      found: [
        {
          accountId: account.id,
          userId,
          field: "posted",
          stored: "0",
          fromTransactions: sum,
          fromLedger: "0",
        },
      ],
      recorded: [{ field: "posted", stored: "0", fromTransactions: sum, fromLedger: "0" }],
    })
  })
})
