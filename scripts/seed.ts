/**
 * `npm run seed -- --rows 1000000 [--user usr_… | --new-user] [--accounts 10] [--database name] [--time] [--export] [--drop]`
 *
 * Loads many transactions fast, to see how the lists behave at scale: set-based
 * `INSERT … SELECT generate_series` in batches, each row with its `created` history event as the
 * API writes it, on DATABASE_URL's server or the embedded PostgreSQL (migrated first). Rows go to
 * `--accounts` new accounts (allowNegative: debits outnumber credits) of the demo user that
 * `npm start` makes (so its demo API key sees them), of `--user`, or of a new user (`--new-user`). Two rows in a hundred are pending holds without expiry, the rest posted; times spread
 * over the three years before now; amounts, categories, counterparties and directions follow
 * fixed, skewed distributions of the row number, so every run loads the same shape of data.
 * Ends with VACUUM ANALYZE, as autovacuum would, so plans and timings are those of a settled table.
 *
 * `--time` then measures list pages through the repository, as the API calls it: median and p95
 * latency of the first page and of a deep page (90% down the list) for each filter, with the
 * index PostgreSQL picks and the rows it reads. `--rows 0 --time` only measures.
 * `--export` then builds a CSV export of all the user's rows, as the worker does, and prints its
 * rows, seconds, rows/s and size, with the process's peak RSS and heap used while it ran (sampled),
 * early in the build and over all of it: an export's memory does not grow with its rows.
 * `--database name` works in that database on the same server (created if missing), and `--drop`
 * drops it at the end, so a benchmark leaves nothing behind.
 */
import { parseArgs } from "node:util"
import { loadConfigOrExit } from "@txn/config"
import {
  connectDatabaseOrExit,
  createDatabase,
  dropDatabase,
  migrate,
  PgAccountRepository,
  PgDatabase,
  PgExportBuilder,
  PgExportRepository,
  PgTransactionRepository,
  PgUserRepository,
} from "@txn/db"
import {
  type Account,
  AccountRepository,
  type Currency,
  ExportRepository,
  encodeCursor,
  type ListTransactions,
  newAccountId,
  newExportId,
  newUserId,
  TransactionRepository,
  UserId,
  UserRepository,
} from "@txn/domain"
import { Presets, SingleBar } from "cli-progress"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { demoUserId } from "./demoApiKey.ts"

const usage = `Usage: npm run seed -- --rows <n> [--user <usr_id> | --new-user] [--accounts <n>]
                        [--batch <n>] [--database <name>] [--time] [--runs <n>] [--export] [--drop]
  --rows       transactions to load (0 with --time or --export: only measure)
  --user       load into this user (created if missing); default: the demo user of npm start,
               ${demoUserId}, whose demo API key then sees the rows
  --new-user   load into a new user instead
  --accounts   new accounts to spread the rows over (default 10)
  --batch      rows per INSERT statement (default 20000)
  --database   work in this database on the same server, created if missing
  --time       then time list pages: median and p95 of the first and a deep page per filter
  --runs       timed calls per page (default 30, after 3 untimed)
  --export     then build a CSV export of all the user's rows: time, size, peak memory
  --drop       drop --database at the end`

const fail = (message: string): never => {
  console.error(`${message}\n\n${usage}`)
  return process.exit(2)
}

const { values: args } = (() => {
  try {
    return parseArgs({
      options: {
        rows: { type: "string" },
        user: { type: "string" },
        "new-user": { type: "boolean", default: false },
        accounts: { type: "string", default: "10" },
        batch: { type: "string", default: "20000" },
        database: { type: "string" },
        time: { type: "boolean", default: false },
        runs: { type: "string", default: "30" },
        export: { type: "boolean", default: false },
        drop: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    })
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()
if (args.help) {
  console.log(usage)
  process.exit(0)
}

const integer = (name: string, text: string | undefined, min: number, max: number) => {
  if (text === undefined) return fail(`--${name} is required`)
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < min || value > max)
    return fail(
      `Invalid --${name} ${JSON.stringify(text)}: expected an integer from ${min} to ${max}`,
    )
  return value
}
const rows = integer("rows", args.rows, 0, 100_000_000)
const accountCount = integer("accounts", args.accounts, 1, 1_000)
const batchSize = integer("batch", args.batch, 1, 1_000_000)
const runs = integer("runs", args.runs, 1, 10_000)
if (args.user !== undefined && !Schema.is(UserId)(args.user))
  fail(
    `Invalid --user ${JSON.stringify(args.user)}: expected usr_ and 26 lower-case letters or digits`,
  )
if (args.user !== undefined && args["new-user"]) fail("--user and --new-user exclude each other")
if (rows === 0 && !(args.time || args.export))
  fail("--rows 0 only measures: it needs --time or --export")
if (rows === 0 && args["new-user"]) fail("--rows 0 measures an existing user: not --new-user")
if (args.database !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(args.database))
  fail(`Invalid --database ${JSON.stringify(args.database)}: expected a lower-case SQL name`)
if (args.drop && args.database === undefined) fail("--drop needs --database")

const config = loadConfigOrExit()
const server = await connectDatabaseOrExit(config)
const serverUrl = new URL(Redacted.value(server.url))
const url = new URL(serverUrl.href)
if (args.database !== undefined) {
  if (serverUrl.pathname === `/${args.database}`)
    fail(`--database ${args.database} is the server's own database: name a scratch one`)
  await createDatabase(serverUrl.href, args.database)
  url.pathname = `/${args.database}`
}

const runtime = ManagedRuntime.make(
  Layer.mergeAll(
    PgAccountRepository.layer,
    PgTransactionRepository.layer,
    PgUserRepository.layer,
    PgExportRepository.layer,
  ).pipe(
    Layer.provideMerge(
      PgDatabase.layer({
        url: Redacted.make(url.href),
        maxConnections: 3,
        prepare: config.databaseDirectUrl === undefined,
      }),
    ),
  ),
)
const run = <A>(
  effect: Effect.Effect<
    A,
    unknown,
    | AccountRepository
    | TransactionRepository
    | UserRepository
    | ExportRepository
    | SqlClient.SqlClient
  >,
) => runtime.runPromise(effect)

await run(migrate)
console.log(`Database: ${url.host}${url.pathname}`)

const currencies = ["EUR", "USD", "GBP", "JPY"] as const
const categories = [
  "groceries",
  "dining",
  "transport",
  "shopping",
  "utilities",
  "rent",
  "salary",
  "entertainment",
  "health",
  "travel",
  "education",
]
/** One category in a thousand rows, as a user's occasional donation: rarer than a page per account. */
const rareCategory = "charity"
const kinds = ["Card payment", "Direct debit", "Transfer", "Refund", "Subscription", "Invoice"]
const years = 3

/** A uniform draw in [0, 1) from the row number: the same for every run. */
const uniform = (salt: number) => `((hashint8extended(n, ${salt}) & 2147483647) / 2147483648.0)`
/** 1..k, the first values likeliest: P(i) = log(1 + 1/i) / log(k + 1). */
const skewed = (salt: number, k: number) => `floor(power(${k + 1}, ${uniform(salt)}))::int`

/** The row's fields, as the API's `created` event records them: every field from null. */
const createdChanges = `jsonb_build_object(${[
  ["id", "id"],
  ["accountId", "account_id"],
  ["userId", "user_id"],
  ["direction", "direction"],
  ["amount", "amount"],
  ["currency", "currency"],
  ["status", "status"],
  ["description", "description"],
  ["category", "category"],
  ["counterparty", "counterparty"],
  ["reference", "reference"],
  ["occurredAt", `to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`],
  ["expiresAt", "expires_at"],
  ["metadata", "metadata"],
  ["version", "version"],
  ["createdAt", `to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`],
  ["updatedAt", `to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`],
]
  .map(([field, value]) => `'${field}', jsonb_build_object('from', null, 'to', ${value})`)
  .join(", ")})`

const insertBatch = (
  from: number,
  to: number,
  accounts: ReadonlyArray<Account>,
  end: Date,
  stepMs: number,
) =>
  SqlClient.SqlClient.use(
    (sql) => sql`
      with generated as (
        select n, ${sql.literal(skewed(1, accounts.length))} as account,
               date_trunc('milliseconds', ${end.toISOString()}::timestamptz
                 - ((${rows}::bigint - n) * ${stepMs}::bigint
                    + (hashint8extended(n, 9) & 2147483647) % ${stepMs}::bigint)
                   * interval '1 millisecond') as at,
               'Merchant ' || ((hashint8extended(n, 7) & 2147483647) % 5000) as counterparty
          from generate_series(${from}::bigint, ${to}::bigint) as n
      ), inserted as (
        insert into transactions (id, account_id, user_id, direction, amount, currency, status,
                                  description, category, counterparty, reference, occurred_at,
                                  expires_at, metadata, version, created_at, updated_at)
        select 'txn_' || substr(md5(random()::text || n::text), 1, 26),
               (string_to_array(${accounts.map((a) => a.id).join(",")}, ','))[account],
               ${accounts[0]!.userId},
               case when ${sql.literal(uniform(2))} < 0.7 then 'debit' else 'credit' end,
               ceil(exp(${sql.literal(uniform(4))} * ln(200000)))::bigint,
               (string_to_array(${accounts.map((a) => a.currency).join(",")}, ','))[account],
               case when ${sql.literal(uniform(3))} < 0.02 then 'pending' else 'posted' end,
               (string_to_array(${kinds.join(",")}, ','))[1 + (hashint8extended(n, 8) & 2147483647) % ${kinds.length}]
                 || ' ' || counterparty,
               case when ${sql.literal(uniform(6))} < 0.1 then null
                    when ${sql.literal(uniform(10))} < 0.001 then ${rareCategory}
                    else (string_to_array(${categories.join(",")}, ','))[
                      ${sql.literal(skewed(5, categories.length))}] end,
               counterparty,
               'INV-' || lpad(n::text, 9, '0'),
               at, null,
               case when n % 5 = 0 then jsonb_build_object('orderId', 'ord-' || n)
                    else '{}'::jsonb end,
               1, at, at
          from generated
        returning *
      )
      insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
      select id, user_id, version, 'created', 'system', ${sql.literal(createdChanges)}, created_at
        from inserted`,
  )

const userId = (args["new-user"] ? newUserId() : (args.user ?? demoUserId)) as UserId

const seed = async () => {
  const now = new Date()
  await run(
    UserRepository.use((users) =>
      users.ensure({
        id: userId,
        name: userId === demoUserId ? "Demo user" : "Seeded user",
        createdAt: now.toISOString(),
      }),
    ),
  )
  const accounts: Array<Account> = []
  for (let i = 0; i < accountCount; i++) {
    const account: Account = {
      id: newAccountId(),
      userId,
      name: `Seeded account ${i + 1}`,
      currency: currencies[i % currencies.length] as Currency,
      allowNegative: true,
      metadata: {},
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    }
    accounts.push(await run(AccountRepository.use((repository) => repository.insert(account))))
  }
  console.log(`User ${userId}, ${accountCount} new accounts; loading ${rows} transactions`)

  const stepMs = Math.max(1, Math.floor((years * 365 * 24 * 3600 * 1000) / rows))
  const bar = new SingleBar(
    {
      format: "{bar} {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}",
      noTTYOutput: true,
      notTTYSchedule: 5_000,
      etaBuffer: 50,
      hideCursor: true,
    },
    Presets.shades_classic,
  )
  const started = performance.now()
  bar.start(rows, 0, { rate: 0 })
  let done = 0
  const batches = Array.from({ length: Math.ceil(rows / batchSize) }, (_, i) => i * batchSize + 1)
  // Two statements at a time: one per core here, and the server writes the batches in parallel.
  await run(
    Effect.forEach(
      batches,
      (from) => {
        const to = Math.min(from + batchSize - 1, rows)
        return insertBatch(from, to, accounts, now, stepMs).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              done += to - from + 1
              const seconds = (performance.now() - started) / 1000
              bar.update(done, { rate: Math.round(done / seconds) })
            }),
          ),
        )
      },
      { concurrency: 2, discard: true },
    ),
  )
  bar.stop()
  // Balances as the API keeps them: one ledger entry per transaction, sums on the account rows.
  const ids = accounts.map((a) => a.id)
  await run(
    SqlClient.SqlClient.use((sql) =>
      Effect.gen(function* () {
        yield* sql`
          insert into ledger_entries
            (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
          select account_id, id,
                 case when status = 'posted'
                      then case direction when 'credit' then amount else -amount end else 0 end,
                 case when status = 'pending' and direction = 'credit' then amount else 0 end,
                 case when status = 'pending' and direction = 'debit' then amount else 0 end,
                 created_at
            from transactions where account_id in ${sql.in(ids)}`
        yield* sql`
          update accounts a
             set posted_balance = e.posted, pending_credits = e.credits, pending_debits = e.debits
            from (select account_id, sum(posted_delta) as posted,
                         sum(pending_credits_delta) as credits, sum(pending_debits_delta) as debits
                    from ledger_entries where account_id in ${sql.in(ids)} group by account_id) e
           where a.id = e.account_id`
      }),
    ),
  )
  const loadSeconds = (performance.now() - started) / 1000
  const analyzeStarted = performance.now()
  await run(
    SqlClient.SqlClient.use(
      (sql) => sql`vacuum (analyze) transactions, transaction_events, accounts, ledger_entries`,
    ),
  )
  console.log(
    `Loaded ${rows} transactions in ${loadSeconds.toFixed(1)} s: ` +
      `${Math.round(rows / loadSeconds)} rows/s (each with its history event), ` +
      `then VACUUM ANALYZE in ${((performance.now() - analyzeStarted) / 1000).toFixed(1)} s`,
  )
}

interface Scenario {
  readonly name: string
  readonly query: ListTransactions
  /** Where the deep page starts: 90% of the way down the list, unless the filter says. */
  readonly deep?: string
}

/** Filters a list page is asked for, with values picked from the user's data. */
const scenarios = (userId: UserId) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [span] = yield* sql<{ readonly oldest: Date; readonly newest: Date }>`
      select min(occurred_at) as oldest, max(occurred_at) as newest
        from transactions where user_id = ${userId}`
    if (span?.oldest == null) return yield* Effect.die(`User ${userId} has no transactions`)
    const at = (fraction: number) =>
      new Date(
        span.oldest.getTime() + fraction * (span.newest.getTime() - span.oldest.getTime()),
      ).toISOString()
    const byAccount = yield* sql<{ readonly accountId: string; readonly count: string }>`
      select account_id, count(*)::text as count from transactions
       where user_id = ${userId} group by 1 order by 2::int desc, 1`
    const byCategory = yield* sql<{ readonly category: string; readonly count: string }>`
      select category, count(*)::text as count from transactions
       where user_id = ${userId} and category is not null group by 1 order by 2::int, 1`
    // Rows from the middle of the history, to search for: a counterparty (the longest name, so
    // that it is not a prefix of others) and a reference.
    const middle = yield* sql<{
      readonly counterparty: string | null
      readonly reference: string | null
    }>`
      select counterparty, reference from transactions
       where user_id = ${userId} and occurred_at <= ${at(0.5)}::timestamptz
       order by occurred_at desc, id desc limit 20`
    const counterparty = middle
      .flatMap((row) => row.counterparty ?? [])
      .sort((a, b) => b.length - a.length)[0]
    const reference = middle.find((row) => row.reference !== null)?.reference ?? undefined
    const big = byAccount[0]!.accountId as ListTransactions["accountId"]
    const small = byAccount.at(-1)!.accountId as ListTransactions["accountId"]
    const rare = byCategory[0]?.category
    const list: Array<Scenario> = [
      { name: "no filter", query: {} },
      { name: "biggest account", query: { accountId: big } },
      { name: "smallest account", query: { accountId: small } },
      { name: "status pending", query: { status: "pending" } },
      { name: "direction credit", query: { direction: "credit" } },
      ...(rare === undefined
        ? []
        : [
            { name: `category ${rare}`, query: { category: rare } },
            { name: "smallest account + category", query: { accountId: small, category: rare } },
          ]),
      { name: "smallest account + pending", query: { accountId: small, status: "pending" } },
      {
        name: "one month",
        query: { occurredFrom: at(0.5), occurredTo: at(0.5 + 1 / 36) },
        deep: at(0.5 + 0.1 / 36),
      },
      { name: "amount 100.00-105.00", query: { minAmount: 10_000, maxAmount: 10_500 } },
      ...(counterparty === undefined
        ? []
        : [{ name: `search "${counterparty}"`, query: { search: counterparty } }]),
      ...(reference === undefined
        ? []
        : [{ name: `search "${reference}"`, query: { search: reference } }]),
    ]
    // 90% of the way down the newest-first list: the page a client reaches by paging far back.
    const deep = (scenario: Scenario) =>
      encodeCursor({ at: scenario.deep ?? at(0.1), id: `txn_${"z".repeat(26)}` })
    return list.map((scenario) => ({
      name: scenario.name,
      query: scenario.query,
      deep: deep(scenario),
    }))
  })

/** The plan's scans: which indexes, and how many rows they touched (returned or thrown away). */
const planSummary = (userId: UserId, query: ListTransactions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [text, params] = PgTransactionRepository.listStatement(sql, userId, query).compile()
    const [row] = yield* sql.unsafe<{ "QUERY PLAN": unknown }>(
      `explain (analyze, format json) ${text}`,
      params,
    )
    interface Node {
      readonly "Node Type": string
      readonly "Index Name"?: string
      readonly "Actual Rows": number
      readonly "Actual Loops": number
      readonly "Rows Removed by Filter"?: number
      readonly "Rows Removed by Index Recheck"?: number
      readonly Plans?: ReadonlyArray<Node>
    }
    const json = row!["QUERY PLAN"]
    const [top] = (typeof json === "string" ? JSON.parse(json) : json) as [{ Plan: Node }]
    const nodes: Array<Node> = []
    const walk = (node: Node) => {
      nodes.push(node)
      node.Plans?.forEach(walk)
    }
    walk(top.Plan)
    // As listPlans.test.ts counts: table rows fetched (kept or filtered out), plus the index
    // entries of bitmaps intersected by a BitmapAnd.
    const read = nodes.reduce(
      (sum, node) =>
        sum +
        (["Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"].includes(
          node["Node Type"],
        )
          ? (node["Actual Rows"] +
              (node["Rows Removed by Filter"] ?? 0) +
              (node["Rows Removed by Index Recheck"] ?? 0)) *
            node["Actual Loops"]
          : node["Node Type"] === "BitmapAnd"
            ? (node.Plans ?? []).reduce((total, child) => total + child["Actual Rows"], 0)
            : 0),
      0,
    )
    const scans = nodes.filter((node) => node["Node Type"].endsWith("Scan"))
    const indexes = [...new Set(scans.flatMap((node) => node["Index Name"] ?? []))]
    const sorted = nodes.some((node) => node["Node Type"].endsWith("Sort"))
    return {
      index:
        (indexes.join(" + ").replaceAll("transactions_", "") || scans[0]?.["Node Type"]) +
        (sorted ? ", sorted" : ""),
      read,
    }
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!

const time = async (userId: UserId) => {
  const list = await run(scenarios(userId))
  const [count] = await run(
    SqlClient.SqlClient.use(
      (sql) => sql<{ readonly count: string }>`
        select count(*)::text as count from transactions where user_id = ${userId}`,
    ),
  )
  console.log(
    `\nList pages of ${Number(count!.count).toLocaleString("en")} transactions ` +
      `(limit 50; ${runs} timed calls each after 3 untimed; through the repository):\n`,
  )
  const table: Array<ReadonlyArray<string>> = [
    ["filter", "page", "items", "index", "rows read", "median ms", "p95 ms"],
  ]
  for (const scenario of list) {
    for (const [page, query] of [
      ["first", scenario.query],
      ["deep", { ...scenario.query, cursor: scenario.deep }],
    ] as const) {
      const call = TransactionRepository.use((repository) =>
        repository.list(userId, { ...query, limit: 50 }),
      )
      const timings: Array<number> = []
      let items = 0
      for (let i = 0; i < runs + 3; i++) {
        const started = performance.now()
        const result = await run(call)
        const elapsed = performance.now() - started
        items = result.items.length
        if (i >= 3) timings.push(elapsed)
      }
      timings.sort((a, b) => a - b)
      const plan = await run(planSummary(userId, { ...query, limit: 50 }))
      table.push([
        scenario.name,
        page,
        String(items),
        plan.index,
        plan.read.toLocaleString("en"),
        percentile(timings, 0.5).toFixed(2),
        percentile(timings, 0.95).toFixed(2),
      ])
    }
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((line) => line[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, i) => (i >= 2 && i !== 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(" | ")} |`
  console.log(line(table[0]!))
  console.log(`| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`)
  for (const cells of table.slice(1)) console.log(line(cells))
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/**
 * Builds an export of every row of the user, as the worker would, sampling this process's memory
 * every 20 ms: the peak early on (the first tenth of the build) against the peak over the whole
 * build shows whether memory grows with the rows written. Under `node --expose-gc` (e.g.
 * `NODE_OPTIONS=--expose-gc`) each sample, every 100 ms, follows a full collection, so the heap
 * figure is live memory rather than garbage not yet collected.
 */
const exportAll = async (userId: UserId) => {
  const gc = (globalThis as { gc?: () => void }).gc
  const created = await run(
    ExportRepository.use((exports) => exports.insert(userId, newExportId(), {}, new Date())),
  )
  gc?.()
  const before = process.memoryUsage()
  const samples: Array<{ readonly at: number; readonly rss: number; readonly heap: number }> = []
  const sample = () => {
    gc?.()
    const { rss, heapUsed } = process.memoryUsage()
    samples.push({ at: performance.now(), rss, heap: heapUsed })
  }
  const started = performance.now()
  const timer = setInterval(sample, gc === undefined ? 20 : 100)
  const outcome = await run(PgExportBuilder.build(created.id))
  clearInterval(timer)
  sample()
  const seconds = (performance.now() - started) / 1000
  if (outcome._tag !== "Completed") throw new Error(`Export ${created.id}: ${outcome._tag}`)
  const heap = gc === undefined ? "heap used" : "heap used after GC"
  const peak = (from: ReadonlyArray<(typeof samples)[number]>) =>
    from.length === 0
      ? "no sample"
      : `${mib(Math.max(...from.map((s) => s.rss)))} RSS, ` +
        `${mib(Math.max(...from.map((s) => s.heap)))} ${heap}`
  const early = samples.filter((s) => s.at - started <= (seconds * 1000) / 10)
  console.log(
    `\nExport ${created.id}: ${outcome.rows.toLocaleString("en")} rows in ${seconds.toFixed(1)} s, ` +
      `${Math.round(outcome.rows / seconds).toLocaleString("en")} rows/s, ` +
      `${mib(outcome.bytes)} in ${outcome.chunks} chunks\n` +
      `Memory (${samples.length} samples): before ${mib(before.rss)} RSS, ${mib(before.heapUsed)} ${heap}; ` +
      `peak in the first tenth ${peak(early)}; peak over the build ${peak(samples)}`,
  )
}

if (rows > 0) await seed()
if (args.time) await time(userId)
if (args.export) await exportAll(userId)
await runtime.dispose()
if (args.drop && args.database !== undefined) {
  await dropDatabase(serverUrl.href, args.database)
  console.log(`Dropped database ${args.database}`)
}
await server.stop()
if (rows > 0 && args.database === undefined) {
  console.log(
    userId === demoUserId
      ? `\nThe demo API key of npm start sees them, e.g.:\n  curl -s http://127.0.0.1:${config.port}/trpc/transactions.list -H "authorization: Bearer $(cat ${config.dataDir}/demo-api-key)"`
      : `\nGive ${userId} an API key to see them: npm run txn -- api-keys create --user ${userId} --scopes read`,
  )
}
