import { Transaction } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PgTransactionRepository } from "../src/index.ts"
import { makeRuntime, type TestRuntime } from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

describe("the transactions row schema", () => {
  it("names every column of the table the API reads, in the domain's field order", async () => {
    const table = await runtime.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ readonly name: string }>`
          select column_name as name from information_schema.columns
           where table_schema = current_schema() and table_name = 'transactions'
             and is_generated = 'NEVER' and column_name <> 'search_text'`
      }),
    )
    const columns = PgTransactionRepository.columns.split(", ")
    expect(columns.toSorted()).toEqual(table.map((c) => c.name).toSorted())
    expect(Object.keys(PgTransactionRepository.TransactionRow.fields)).toEqual(
      Object.keys(Transaction.fields),
    )
  })
})
