import {
  type Account,
  type AccountId,
  encodeCursor,
  type ListTransactions,
  type UserId,
} from "@txn/domain"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { listStatement } from "../src/PgTransactionRepository.ts"
import { accountOf, createUser, insertAccount, makeRuntime, type TestRuntime } from "./fixtures.ts"

// Enough rows, spread over two users, that reading the whole table costs far more than an index
// range: the planner then shows which filters an index serves. Filtered values are rare (the
// first account holds 1% of a user's rows), as they are for a user with many accounts.
const rowsPerUser = 25_000

let runtime: TestRuntime
let userId: UserId
let accountId: AccountId

beforeAll(async () => {
  runtime = makeRuntime()
  const seed = async () => {
    const user = await runtime.runPromise(createUser)
    const accounts: Array<Account> = []
    for (let i = 0; i < 5; i++)
      accounts.push(await runtime.runPromise(insertAccount(accountOf(user))))
    await runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql`
          insert into transactions (id, account_id, user_id, direction, amount, currency, status,
                                    description, category, counterparty, reference, occurred_at,
                                    metadata, version, created_at, updated_at)
          select 'txn_' || substr(md5(random()::text || n::text), 1, 26),
                 (string_to_array(${accounts.map((a) => a.id).join(",")}, ','))[
                   case when n % 100 = 0 then 1 else 2 + n % 4 end],
                 ${user}, case when n % 2 = 0 then 'debit' else 'credit' end,
                 1 + (n * 7919) % 1000000, 'EUR',
                 case when n % 10 = 0 then 'pending' when n % 101 = 0 then 'voided' else 'posted' end,
                 'purchase ' || n, 'category-' || (n % 200), 'shop ' || (n % 997), 'ref-' || n,
                 timestamptz '2026-01-01' + n * interval '7 minutes', '{}'::jsonb, 1, now(), now()
            from generate_series(1, ${rowsPerUser}) as n`,
      ),
    )
    return { user, account: accounts[0]!.id }
  }
  await seed()
  const target = await seed()
  userId = target.user
  accountId = target.account
  await runtime.runPromise(SqlClient.SqlClient.use((sql) => sql`analyze transactions`))
}, 120_000)
afterAll(() => runtime.dispose())

/** PostgreSQL's plan for the page `list` would read with these filters. */
const planOf = (query: ListTransactions) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [text, params] = listStatement(sql, userId, query).compile()
      const rows = yield* sql.unsafe<{ "QUERY PLAN": string }>(`explain ${text}`, params)
      return rows.map((row) => row["QUERY PLAN"]).join("\n")
    }),
  )

const cases: ReadonlyArray<[string, ListTransactions, RegExp]> = [
  ["no filter", {}, /transactions_user_occurred_idx/],
  ["an account", { accountId: "acc_" as AccountId }, /transactions_account_occurred_idx/],
  ["a status", { status: "voided" }, /transactions_user_status_occurred_idx/],
  ["a direction", { direction: "credit" }, /transactions_user_direction_occurred_idx/],
  ["a category", { category: "category-7" }, /transactions_user_category_occurred_idx/],
  [
    "a time range",
    { occurredFrom: "2026-02-01T00:00:00Z", occurredTo: "2026-02-02T00:00:00Z" },
    /transactions_user_occurred_idx/,
  ],
  ["an amount range", { minAmount: 5_000, maxAmount: 6_000 }, /transactions_user_amount_idx/],
  ["a text search", { search: "ref-12345" }, /transactions_search_idx/],
  [
    "a cursor",
    {
      cursor: encodeCursor({
        at: "2026-03-01T00:00:00.000Z",
        id: "txn_zzzzzzzzzzzzzzzzzzzzzzzzzz",
      }),
    },
    /transactions_user_occurred_idx/,
  ],
]

describe("every list filter is served by an index", () => {
  for (const [name, query, index] of cases) {
    it(`reads ${name} through ${index.source}, never the whole table`, async () => {
      const plan = await planOf(query.accountId === undefined ? query : { ...query, accountId })
      expect(plan).not.toMatch(/Seq Scan/)
      expect(plan).toMatch(index)
    })
  }
})
