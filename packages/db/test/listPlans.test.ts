import {
  type Account,
  type AccountId,
  AccountRepository,
  type Currency,
  encodeCursor,
  type ListAccounts,
  type ListTransactions,
  TransactionRepository,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import * as Statement from "effect/sql/Statement"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  accountOf,
  createPrivateDatabase,
  createUser,
  insertAccount,
  makeRuntime,
  type TestRuntime,
} from "./fixtures.ts"

// Enough rows, spread over two users, that reading a user's rows costs far more than an index
// range: the planner then shows which filters and combinations an index serves. The values are
// spread by a hash of the row number, so no two filters are correlated, and the filtered values
// are rare, as they are for a user with years of history: the small account holds 1% of the
// user's rows, `voided` 1%, a category 0.5%. The big account holds 49%, three others 17% each.
const rowsPerUser = 25_000
// Accounts of other users outnumber the user's own, as on a real server; the user's USD accounts
// are a small share of theirs.
const otherAccounts = 20_000
const ownEurAccounts = 1_000
const ownUsdAccounts = 50

/** A page reads at most this many rows (4% of the user's), where a scan of them reads all. */
const maxRowsRead = 1_000
/** And sorts at most this many: five pages. */
const maxRowsSorted = 250

let runtime: TestRuntime
let userId: UserId
let small: AccountId
let mid: AccountId
let big: AccountId

// Deterministic and uncorrelated: a different hash of the row number for each column.
const pick = (salt: number, modulus: number) =>
  `(((hashint8extended(n::bigint, ${salt}) % ${modulus}) + ${modulus}) % ${modulus})`

// A database of its own: other suites' writes to the shared one would move the planner's
// statistics between the analyze below and the plans read.
let database: Awaited<ReturnType<typeof createPrivateDatabase>>

beforeAll(async () => {
  database = await createPrivateDatabase("plans")
  runtime = makeRuntime(database.url)
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
                                    metadata, version, created_at, updated_at, reversed_by)
          select 'txn_' || substr(md5(${user} || n), 1, 26),
                 (string_to_array(${accounts.map((a) => a.id).join(",")}, ','))[
                   case when ${sql.literal(pick(1, 100))} = 0 then 1
                        when ${sql.literal(pick(1, 100))} < 50 then 2
                        else 3 + ${sql.literal(pick(2, 3))} end],
                 ${user},
                 case when ${sql.literal(pick(3, 10))} < 3 then 'credit' else 'debit' end,
                 1 + ${sql.literal(pick(4, 1_000_000))}, 'EUR',
                 case when ${sql.literal(pick(5, 1000))} < 20 then 'pending'
                      when ${sql.literal(pick(5, 1000))} < 30 then 'voided'
                      when ${sql.literal(pick(5, 1000))} < 35 then 'reversed'
                      else 'posted' end,
                 'purchase ' || n, 'category-' || ${sql.literal(pick(6, 200))},
                 'shop ' || ${sql.literal(pick(7, 997))}, 'ref-' || n,
                 timestamptz '2026-01-01' + n * interval '7 minutes', '{}'::jsonb, 1, now(), now(),
                 -- A reversed row names its reversal; here it points at itself.
                 case when ${sql.literal(pick(5, 1000))} between 30 and 34
                      then 'txn_' || substr(md5(${user} || n), 1, 26) end
            from generate_series(1, ${rowsPerUser}) as n`,
      ),
    )
    return { user, small: accounts[0]!.id, big: accounts[1]!.id, mid: accounts[2]!.id }
  }
  const other = await seed()
  const target = await seed()
  userId = target.user
  small = target.small
  mid = target.mid
  big = target.big
  const moreAccounts = (user: UserId, count: number, currency: string) =>
    SqlClient.SqlClient.use(
      (sql) => sql`
        insert into accounts (id, user_id, name, currency, metadata, created_at, updated_at)
        select 'acc_' || substr(md5(${user} || ${currency} || n), 1, 26), ${user}, 'Account ' || n,
               ${currency}, '{}'::jsonb, timestamptz '2025-01-01' + n * interval '37 minutes',
               timestamptz '2025-01-01' + n * interval '37 minutes'
          from generate_series(1, ${count}) as n`,
    )
  await runtime.runPromise(
    Effect.all([
      moreAccounts(other.user, otherAccounts, "EUR"),
      moreAccounts(userId, ownEurAccounts, "EUR"),
      moreAccounts(userId, ownUsdAccounts, "USD"),
    ]),
  )
  await runtime.runPromise(SqlClient.SqlClient.use((sql) => sql`analyze transactions, accounts`))
}, 120_000)
afterAll(async () => {
  await runtime?.dispose()
  await database?.drop()
})

/** A node of `explain (analyze, format json)`, with the fields these tests read. */
interface PlanNode {
  readonly "Node Type": string
  readonly "Relation Name"?: string
  readonly "Index Name"?: string
  readonly "Index Cond"?: string
  readonly "Recheck Cond"?: string
  readonly Filter?: string
  readonly "Sort Method"?: string
  readonly "Actual Rows": number
  readonly "Actual Loops": number
  readonly "Rows Removed by Filter"?: number
  readonly "Rows Removed by Index Recheck"?: number
  readonly Plans?: ReadonlyArray<PlanNode>
}

const nodesOf = (node: PlanNode): ReadonlyArray<PlanNode> => [
  node,
  ...(node.Plans ?? []).flatMap(nodesOf),
]

/** One line per node, to read in a failure message. */
const render = (node: PlanNode, depth = 0): string =>
  [
    `${"  ".repeat(depth)}${node["Node Type"]}${node["Index Name"] ? ` using ${node["Index Name"]}` : ""}` +
      ` (rows=${node["Actual Rows"]}${node["Rows Removed by Filter"] ? ` removed=${node["Rows Removed by Filter"]}` : ""})` +
      (node["Index Cond"] ? ` cond: ${node["Index Cond"]}` : "") +
      (node.Filter ? ` filter: ${node.Filter}` : ""),
    ...(node.Plans ?? []).map((child) => render(child, depth + 1)),
  ].join("\n")

/** Nodes that fetch table rows; a Bitmap Index Scan only marks where they are. */
const tableScans = new Set(["Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"])

/**
 * Rows the plan touched: table rows fetched (returned, or read and thrown away by a filter), plus
 * the index entries of bitmaps intersected with another (BitmapAnd reads both ranges whole).
 */
const rowsRead = (node: PlanNode): number => {
  const own = tableScans.has(node["Node Type"])
    ? (node["Actual Rows"] +
        (node["Rows Removed by Filter"] ?? 0) +
        (node["Rows Removed by Index Recheck"] ?? 0)) *
      node["Actual Loops"]
    : node["Node Type"] === "BitmapAnd"
      ? (node.Plans ?? []).reduce((sum, child) => sum + child["Actual Rows"], 0)
      : 0
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child), 0)
}

/**
 * Runs a repository call, keeps the statement it sent, and returns PostgreSQL's executed plan of
 * that very statement (so the plan is the one `list` gets, whatever the repository builds).
 */
const planOf = (call: Effect.Effect<unknown, never, AccountRepository | TransactionRepository>) =>
  runtime.runPromise(
    Effect.gen(function* () {
      const sent: Array<readonly [string, ReadonlyArray<unknown>]> = []
      yield* call.pipe(
        Effect.provideService(Statement.CurrentTransformer, (statement) => {
          sent.push(statement.compile())
          return Effect.succeed(statement)
        }),
      )
      expect(sent).toHaveLength(1)
      const [text, params] = sent[0]!
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql.unsafe<{ "QUERY PLAN": unknown }>(
        `explain (analyze, format json) ${text}`,
        params,
      )
      const json = row!["QUERY PLAN"]
      const [top] = (typeof json === "string" ? JSON.parse(json) : json) as [{ Plan: PlanNode }]
      return top.Plan
    }),
  )

const listTransactions = (query: ListTransactions) =>
  planOf(TransactionRepository.use((repository) => repository.list(userId, query)))

const listAccounts = (query: ListAccounts) =>
  planOf(AccountRepository.use((repository) => repository.list(userId, query)))

/** Half-way through the user's history: the page after it is as deep as pages get. */
const cursor = encodeCursor({
  at: "2026-03-01T00:00:00.000Z",
  id: "txn_zzzzzzzzzzzzzzzzzzzzzzzzzz",
})
const february = { occurredFrom: "2026-02-01T00:00:00Z", occurredTo: "2026-03-15T00:00:00Z" }
const aDay = { occurredFrom: "2026-02-01T00:00:00Z", occurredTo: "2026-02-02T00:00:00Z" }
const fewAmounts = { minAmount: 5_000, maxAmount: 6_000 }

interface Case {
  readonly name: string
  readonly query: () => ListTransactions
  /** The indexes that may serve it (the planner picks the cheaper where two fit). */
  readonly index: RegExp
  /**
   * Why no index can give this filter the list's order, so the rows it matches are sorted (a
   * top-N heapsort under the LIMIT, over a range the filter keeps small). Absent: the index gives
   * the order and the plan has no Sort.
   */
  readonly sorts?: string
}

const byAmount = "transactions_user_amount_idx orders by amount, not by time"
const byText = "the trigram GIN index finds rows by text and has no order"

const cases: ReadonlyArray<Case> = [
  // Each filter alone, on the first page and on a page half-way down.
  { name: "no filter", query: () => ({}), index: /transactions_user_occurred_idx/ },
  {
    name: "an account",
    query: () => ({ accountId: small }),
    index: /transactions_account_occurred_idx/,
  },
  {
    name: "a status",
    query: () => ({ status: "voided" }),
    index: /transactions_user_status_occurred_idx/,
  },
  {
    name: "a direction",
    query: () => ({ direction: "credit" }),
    index: /transactions_user_direction_occurred_idx/,
  },
  {
    name: "a category",
    query: () => ({ category: "category-7" }),
    index: /transactions_user_category_occurred_idx/,
  },
  { name: "a time range", query: () => aDay, index: /transactions_user_occurred_idx/ },
  {
    name: "an amount range",
    query: () => fewAmounts,
    index: /transactions_user_amount_idx/,
    sorts: byAmount,
  },
  {
    name: "a text search",
    query: () => ({ search: "ref-12345" }),
    index: /transactions_search_idx/,
    sorts: byText,
  },
  { name: "a cursor", query: () => ({ cursor }), index: /transactions_user_occurred_idx/ },
  {
    name: "an account after a cursor",
    query: () => ({ accountId: small, cursor }),
    index: /transactions_account_occurred_idx/,
  },
  {
    name: "a status after a cursor",
    query: () => ({ status: "voided", cursor }),
    index: /transactions_user_status_occurred_idx/,
  },
  {
    name: "a direction after a cursor",
    query: () => ({ direction: "credit", cursor }),
    index: /transactions_user_direction_occurred_idx/,
  },
  {
    name: "a category after a cursor",
    query: () => ({ category: "category-7", cursor }),
    index: /transactions_user_category_occurred_idx/,
  },
  {
    name: "a time range after a cursor",
    query: () => ({ ...february, cursor }),
    index: /transactions_user_occurred_idx/,
  },
  {
    name: "an amount range after a cursor",
    query: () => ({ ...fewAmounts, cursor }),
    index: /transactions_user_amount_idx/,
    sorts: byAmount,
  },
  {
    name: "a text search after a cursor",
    query: () => ({ search: "ref-12345", cursor }),
    index: /transactions_search_idx/,
    sorts: byText,
  },
  // Combinations. Two equality filters need an index that leads with both, or the page reads one
  // filter's whole range to find the rare rows of the other: an account's rows by status and by
  // category have one (0004_list_indexes). Where the account holds half the user's rows, reading
  // the user's rows of that status or category in order and skipping the other accounts' costs
  // two rows per row returned, so the planner may do that instead.
  {
    name: "a small account and a rare status",
    query: () => ({ accountId: small, status: "voided" }),
    index: /transactions_account_status_occurred_idx/,
  },
  {
    name: "a big account and a status",
    query: () => ({ accountId: big, status: "pending" }),
    index: /transactions_account_status_occurred_idx|transactions_user_status_occurred_idx/,
  },
  {
    name: "a small account and a category",
    query: () => ({ accountId: small, category: "category-7" }),
    index: /transactions_account_category_occurred_idx/,
  },
  {
    name: "a big account and a category",
    query: () => ({ accountId: big, category: "category-7" }),
    index: /transactions_account_category_occurred_idx|transactions_user_category_occurred_idx/,
  },
  // A direction is one of two values, so reading either filter's index in order and skipping the
  // other direction costs a few rows per row returned: no index of its own. (Not the small
  // account: its 250 rows are few enough that the planner may read them all and sort them.)
  {
    name: "an account and a direction",
    query: () => ({ accountId: mid, direction: "credit" }),
    index: /transactions_account_occurred_idx|transactions_user_direction_occurred_idx/,
  },
  {
    name: "a big account and a direction",
    query: () => ({ accountId: big, direction: "credit" }),
    index: /transactions_account_occurred_idx|transactions_user_direction_occurred_idx/,
  },
  {
    name: "a status and a direction",
    query: () => ({ status: "voided", direction: "credit" }),
    index: /transactions_user_status_occurred_idx|transactions_user_direction_occurred_idx/,
  },
  {
    name: "a status and a time range",
    query: () => ({ status: "voided", ...february }),
    index: /transactions_user_status_occurred_idx/,
  },
  {
    name: "an account and a time range after a cursor",
    query: () => ({ accountId: small, ...february, cursor }),
    index: /transactions_account_occurred_idx/,
  },
  {
    name: "an account, a status and a time range after a cursor",
    query: () => ({ accountId: small, status: "pending", ...february, cursor }),
    index: /transactions_account_status_occurred_idx/,
  },
  {
    name: "a category and an amount range",
    query: () => ({ category: "category-7", minAmount: 5_000, maxAmount: 15_000 }),
    index: /transactions_user_category_occurred_idx|transactions_user_amount_idx/,
    sorts: `the planner reads the narrower of the two ranges: the category's in order, or the amounts' and sorts them (${byAmount})`,
  },
  {
    name: "a text search in an account",
    query: () => ({ accountId: small, search: "shop 123" }),
    // Any index that leads with account_id finds the account's rows when they are sorted anyway.
    index: /transactions_search_idx|transactions_account_\w+_idx/,
    sorts: `the planner reads the account in order, or the matches and sorts them (${byText})`,
  },
  // Filters that match most rows: reading newest first and skipping the few misses beats
  // sorting every match.
  {
    name: "an amount range that matches most rows",
    query: () => ({ minAmount: 100 }),
    index: /transactions_user_occurred_idx/,
  },
  {
    name: "a text search that matches most rows",
    query: () => ({ search: "purchase" }),
    index: /transactions_user_occurred_idx/,
  },
]

/** Whether some index scan starts or stops at this condition (rather than filtering by it). */
const inIndexCond = (plan: PlanNode, condition: RegExp) =>
  nodesOf(plan).some((node) => condition.test(node["Index Cond"] ?? ""))

/** The rows each Sort of the plan was given. */
const sortInputs = (plan: PlanNode) =>
  nodesOf(plan)
    .filter((node) => node["Node Type"].endsWith("Sort"))
    .map((node) => node.Plans?.[0]?.["Actual Rows"] ?? 0)

describe("transactions.list reads a bounded index range for every filter and combination", () => {
  for (const c of cases) {
    const how = c.sorts === undefined ? "in index order" : "and sorts the few rows it matches"
    it(`reads ${c.name} through ${c.index.source} ${how}`, async () => {
      const query = c.query()
      const plan = await listTransactions(query)
      const nodes = nodesOf(plan)
      const shown = render(plan)
      expect(
        nodes.filter((node) => node["Node Type"] === "Seq Scan"),
        shown,
      ).toEqual([])
      expect(
        nodes.map((node) => node["Index Name"] ?? ""),
        shown,
      ).toContainEqual(expect.stringMatching(c.index))
      expect(rowsRead(plan), shown).toBeLessThanOrEqual(maxRowsRead)
      // An ordered filter may still be sorted when its whole range is a few rows (the planner
      // reads them at once rather than one by one in order), never when the range is large.
      for (const input of sortInputs(plan)) expect(input, shown).toBeLessThanOrEqual(maxRowsSorted)
      if (c.sorts === undefined) {
        // The page starts at the cursor and stops at the range's end inside the index, instead
        // of walking there from the newest row: a deep page costs what the first one does.
        if (query.cursor !== undefined)
          expect(inIndexCond(plan, /ROW\(occurred_at, id\) < ROW\(/), shown).toBe(true)
        if (query.occurredFrom !== undefined)
          expect(inIndexCond(plan, /occurred_at >= /), shown).toBe(true)
      }
    })
  }
})

const accountCursor = encodeCursor({
  at: "2025-01-02T00:00:00.000Z",
  id: "acc_zzzzzzzzzzzzzzzzzzzzzzzzzz",
})

const accountCases: ReadonlyArray<[string, ListAccounts, RegExp]> = [
  ["every account", {}, /accounts_user_created_idx/],
  ["a currency", { currency: "USD" as Currency }, /accounts_user_currency_created_idx/],
  ["every account after a cursor", { cursor: accountCursor }, /accounts_user_created_idx/],
  [
    "a currency after a cursor",
    { currency: "USD" as Currency, cursor: accountCursor },
    /accounts_user_currency_created_idx/,
  ],
]

describe("accounts.list reads the user's accounts through an index", () => {
  for (const [name, query, index] of accountCases) {
    it(`reads ${name} through ${index.source} in index order`, async () => {
      const plan = await listAccounts(query)
      const nodes = nodesOf(plan)
      const shown = render(plan)
      expect(
        nodes.filter((node) => node["Node Type"] === "Seq Scan"),
        shown,
      ).toEqual([])
      expect(
        nodes.map((node) => node["Index Name"] ?? ""),
        shown,
      ).toContainEqual(expect.stringMatching(index))
      expect(rowsRead(plan), shown).toBeLessThanOrEqual(maxRowsRead)
      for (const input of sortInputs(plan)) expect(input, shown).toBeLessThanOrEqual(maxRowsSorted)
      if (query.cursor !== undefined)
        expect(inIndexCond(plan, /ROW\(created_at, id\) < ROW\(/), shown).toBe(true)
    })
  }
})
