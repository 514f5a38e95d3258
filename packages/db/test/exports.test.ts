import {
  type Account,
  type Export,
  type ExportFilters,
  type ExportId,
  Exports,
  type ListTransactions,
  makeId,
  newUserId,
  type Transaction,
  TransactionRepository,
  type UserId,
} from "@txn/domain"
import { testDatabaseUrl } from "@txn/testing"
import { parse } from "csv-parse/sync"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  PgAccountRepository,
  PgDatabase,
  PgExportBuilder,
  PgExportRepository,
  PgIdempotencyStore,
  PgTransactionRepository,
  PgUserRepository,
} from "../src/index.ts"
import {
  accountOf,
  at,
  createUser,
  insertAccount,
  insertTransaction,
  transactionOf,
} from "./fixtures.ts"

const makeExportRuntime = () =>
  ManagedRuntime.make(
    Exports.layer.pipe(
      Layer.provideMerge(
        Layer.mergeAll(
          PgExportRepository.layer,
          PgIdempotencyStore.layer,
          PgAccountRepository.layer,
          PgTransactionRepository.layer,
          PgUserRepository.layer,
        ),
      ),
      Layer.provideMerge(PgDatabase.layer({ url: testDatabaseUrl(), maxConnections: 6 })),
    ),
  )

let runtime: ReturnType<typeof makeExportRuntime>
beforeAll(() => {
  runtime = makeExportRuntime()
})
afterAll(() => runtime.dispose())

/** The tag of the error an Effect failed with, if it failed with one. */
const failureTag = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause))?._tag : undefined

const sqlRun = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  runtime.runPromise(SqlClient.SqlClient.use(f).pipe(Effect.orDie))

const createExport = (userId: UserId, filters: ExportFilters = {}) =>
  runtime.runPromise(Exports.use((exports) => exports.create(userId, filters)))

const getExport = (userId: UserId, id: ExportId) =>
  runtime.runPromise(Exports.use((exports) => exports.get(userId, { id })))

const build = (id: ExportId, options: PgExportBuilder.BuildOptions = {}) =>
  runtime.runPromise(PgExportBuilder.build(id, options))

/** The file as its chunks hold it, in order. */
const fileOf = async (id: ExportId) => {
  const chunks = await sqlRun(
    (sql) => sql<{ readonly data: Uint8Array }>`
      select data from export_chunks where export_id = ${id} order by seq`,
  )
  return Buffer.concat(chunks.map((chunk) => chunk.data)).toString("utf8")
}

const chunksOf = (id: ExportId) =>
  sqlRun(
    (sql) => sql<{ readonly seq: number; readonly data: Uint8Array }>`
      select seq, data from export_chunks where export_id = ${id} order by seq`,
  )

const recordsOf = async (id: ExportId): Promise<Array<Record<string, string>>> =>
  parse(await fileOf(id), { columns: true })

/** Every page of the list with these filters, as `transactions.list` answers it. */
const listAll = async (userId: UserId, filters: ExportFilters) => {
  const items: Array<Transaction> = []
  let cursor: string | undefined
  for (;;) {
    const query: ListTransactions = { ...filters, limit: 200, ...(cursor ? { cursor } : {}) }
    const page = await runtime.runPromise(
      TransactionRepository.use((transactions) => transactions.list(userId, query)),
    )
    items.push(...page.items)
    if (!page.hasMore) return items
    cursor = page.nextCursor ?? undefined
  }
}

/** What a spreadsheet takes for the start of a formula. */
const formulaStart = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/

/**
 * What a spreadsheet must not run: a `'` goes before a formula start at the start of a text cell
 * and after each `;`, tab or line break in it (quotes and apostrophes in between included).
 */
const neutralised = (text: string) =>
  text.replace(/(?<=^|[;\t\r\n])(?=["']*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/g, "'")

/** A text cell's value as stored, by the rule of docs/exports.md: drop each `'` the export put in. */
const restored = (cell: string) =>
  cell.replace(/(?<=^|[;\t\r\n])'(?=["']*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/g, "")

/**
 * The cells a reader splitting the file on `;` or tabs (a list separator, a tab-delimited import)
 * may start: after each such separator and line break, whatever the quoting, with the quotes a
 * reader may open a quoted cell on looked through.
 */
const cellStartsSplitOn = (file: string) =>
  file.split(/[;\t\r\n]/).map((piece) => piece.replace(/^"+/, ""))

/** A transaction as the CSV spells it: every cell text, empty for null. */
const csvOf = (t: Transaction): Record<string, string> => ({
  id: t.id,
  occurredAt: t.occurredAt,
  accountId: t.accountId,
  direction: t.direction,
  amount: String(t.amount),
  currency: t.currency,
  status: t.status,
  description: neutralised(t.description ?? ""),
  category: neutralised(t.category ?? ""),
  counterparty: neutralised(t.counterparty ?? ""),
  reference: neutralised(t.reference ?? ""),
  transferId: t.transferId ?? "",
  reversalOf: t.reversalOf ?? "",
  reversedBy: t.reversedBy ?? "",
  createdAt: t.createdAt,
  updatedAt: t.updatedAt,
  metadata: JSON.stringify(t.metadata),
})

const texts = [
  "Coffee, with milk",
  'The "good" beans',
  "Line one\nline two",
  "Windows\r\nline",
  "Ünïcödé ☕ 日本語 👩‍💻",
  "  spaces around  ",
  "semi;colon\ttab",
  null,
]

/**
 * A user with two EUR accounts and `count` transactions spread over both, with every field in
 * use: awkward text, categories, metadata, statuses, directions, amounts, times.
 */
const seedUser = async (count: number) => {
  const userId = await runtime.runPromise(createUser)
  const main = await runtime.runPromise(insertAccount(accountOf(userId, { allowNegative: true })))
  const other = await runtime.runPromise(insertAccount(accountOf(userId, { allowNegative: true })))
  const created: Array<Transaction> = []
  for (let i = 0; i < count; i++) {
    const account = i % 3 === 0 ? other : main
    const text = texts[i % texts.length] ?? null
    created.push(
      await runtime.runPromise(
        insertTransaction(
          transactionOf(account, {
            direction: i % 4 === 0 ? "credit" : "debit",
            amount: 100 + ((i * 7919) % 100_000),
            status: i % 10 === 0 ? "pending" : "posted",
            description: text === null ? null : `${text} #${i}`,
            category: i % 5 === 0 ? null : ["food", "rent", "travel"][i % 3]!,
            counterparty: i % 2 === 0 ? `Shop ${i % 13}` : null,
            reference: i % 6 === 0 ? `INV-${i}` : null,
            // Several rows share a time, so the order falls back on ids.
            occurredAt: at(
              `2026-01-${String(1 + (Math.floor(i / 3) % 28)).padStart(2, "0")}T10:00:00Z`,
            ),
            metadata: i % 4 === 1 ? { orderId: `ord-${i}`, note: 'with "quotes"' } : {},
          }),
        ),
      ),
    )
  }
  return { userId, main, other, created }
}

let seeded: Awaited<ReturnType<typeof seedUser>>
beforeAll(async () => {
  seeded = await seedUser(230)
})

describe("the export builder", () => {
  it("writes the filtered list in list order, header first, over many chunks; parsed back it equals transactions.list", async () => {
    const filters = { accountId: seeded.main.id }
    const created = await createExport(seeded.userId, filters)
    const outcome = await build(created.id, { batchSize: 7, chunkBytes: 1_000 })
    const listed = await listAll(seeded.userId, filters)

    expect(listed.length).toBeGreaterThan(100)
    expect(outcome).toMatchObject({ _tag: "Completed", rows: listed.length })
    const chunks = await chunksOf(created.id)
    expect(chunks.length).toBeGreaterThan(10)
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, i) => i))
    const file = await fileOf(created.id)
    expect(file.split("\n")[0]).toBe(PgExportBuilder.csvColumns.join(","))
    expect(await recordsOf(created.id)).toEqual(listed.map(csvOf))
    expect(Buffer.byteLength(file)).toBe((await getExport(seeded.userId, created.id)).bytes)
  })

  it("honours every filter of transactions.list, alone and together", async () => {
    const all = await listAll(seeded.userId, {})
    const byAmount = all.map((t) => t.amount).sort((a, b) => a - b)
    const cases: ReadonlyArray<ExportFilters> = [
      {},
      { accountId: seeded.other.id },
      { status: "pending" },
      { direction: "credit" },
      { category: "rent" },
      { occurredFrom: "2026-01-05T00:00:00Z", occurredTo: "2026-01-09T10:00:00Z" },
      { minAmount: byAmount[50]!, maxAmount: byAmount[120]! },
      { search: "good" },
      { search: "shop 1" },
      { accountId: seeded.main.id, direction: "debit", category: "food", search: "#" },
      { accountId: makeId("acc") as Account["id"] },
    ]
    for (const filters of cases) {
      const created = await createExport(seeded.userId, filters)
      expect(created.filters).toEqual(filters)
      await build(created.id, { batchSize: 40, chunkBytes: 5_000 })
      const listed = await listAll(seeded.userId, filters)
      const records = await recordsOf(created.id)
      expect([JSON.stringify(filters), records.map((r) => r.id)]).toEqual([
        JSON.stringify(filters),
        listed.map((t) => t.id),
      ])
      expect(records).toEqual(listed.map(csvOf))
    }
  })

  it("leaves out rows created after the export, so the file is the list as it was then", async () => {
    const { userId, main } = await seedUser(5)
    const before = await listAll(userId, {})
    const created = await createExport(userId)
    const later = await runtime.runPromise(
      insertTransaction(
        transactionOf(main, {
          occurredAt: at("2026-01-10T00:00:00Z"),
          createdAt: new Date(Date.parse(created.createdAt) + 1_000).toISOString(),
        }),
      ),
    )
    await build(created.id)
    const ids = (await recordsOf(created.id)).map((r) => r.id)
    expect(ids).toEqual(before.map((t) => t.id))
    expect(ids).not.toContain(later.id)
    expect(await getExport(userId, created.id)).toMatchObject({ totalRows: 5, rowsWritten: 5 })
  })

  it("writes only the header for a filter nothing matches, and completes", async () => {
    const created = await createExport(seeded.userId, { category: "nothing-has-this" })
    const header = `${PgExportBuilder.csvColumns.join(",")}\n`
    expect(await build(created.id)).toEqual({
      _tag: "Completed",
      rows: 0,
      bytes: header.length,
      chunks: 1,
    })
    expect(await fileOf(created.id)).toBe(header)
    expect(await getExport(seeded.userId, created.id)).toMatchObject({
      status: "completed",
      totalRows: 0,
      rowsWritten: 0,
      progress: 1,
    })
  })

  it("puts a ' before text cells a spreadsheet would run as a formula, and leaves the rest alone", async () => {
    const userId = await runtime.runPromise(createUser)
    const account = await runtime.runPromise(insertAccount(accountOf(userId)))
    const hostile = [
      '=HYPERLINK("http://evil.example","click")',
      "+1+2",
      "-3+4",
      "@SUM(A1:A9)",
      "\tleading tab",
      "\rleading CR",
      "\uFF1Dfull-width equals",
    ]
    for (const [i, text] of hostile.entries()) {
      await runtime.runPromise(
        insertTransaction(
          transactionOf(account, {
            direction: "credit",
            description: text,
            category: text.slice(0, 100),
            counterparty: "Harmless = later",
            reference: i % 2 === 0 ? "-ref" : "ref-",
            metadata: { formula: "=1+1" },
            occurredAt: at(`2026-02-0${i + 1}T00:00:00Z`),
          }),
        ),
      )
    }
    const created = await createExport(userId)
    await build(created.id)
    const records = await recordsOf(created.id)
    expect(records.map((r) => r.description)).toEqual(hostile.map((text) => `'${text}`).reverse())
    expect(records.map((r) => r.category)).toEqual(hostile.map((text) => `'${text}`).reverse())
    expect(new Set(records.map((r) => r.counterparty))).toEqual(new Set(["Harmless = later"]))
    expect(new Set(records.map((r) => r.reference))).toEqual(new Set(["'-ref", "ref-"]))
    expect(new Set(records.map((r) => r.metadata))).toEqual(new Set(['{"formula":"=1+1"}']))
    expect(new Set(records.map((r) => r.amount))).toEqual(new Set(["1000"]))
  })

  it("quotes cells holding a separator, a quote or a line break; read with ; or tabs, no cell starts a formula", async () => {
    const userId = await runtime.runPromise(createUser)
    const account = await runtime.runPromise(insertAccount(accountOf(userId)))
    const hostile = [
      ";=cmd|' /C calc'!A0;",
      "a\t=1+1",
      "line\n=1+1",
      "crlf\r\n@SUM(A1)",
      'a;"=1+1"',
      "a;'=1+1",
      "'=already quoted",
      "plain; text",
      "tab\tonly",
      "comma, -5% off",
    ]
    for (const [i, text] of hostile.entries()) {
      await runtime.runPromise(
        insertTransaction(
          transactionOf(account, {
            direction: "credit",
            description: text,
            counterparty: text.slice(0, 100),
            metadata: { note: text, "k;=1": "v\t-1" },
            occurredAt: at(`2026-03-${String(i + 1).padStart(2, "0")}T00:00:00Z`),
          }),
        ),
      )
    }
    const created = await createExport(userId)
    await build(created.id)
    const file = await fileOf(created.id)

    // Read as written (`,`): every value comes back, after dropping the `'`s the export put in.
    const records = parse(file, { columns: true }) as Array<Record<string, string>>
    const originals = [...hostile].reverse()
    expect(records.map((r) => restored(r.description!))).toEqual(originals)
    expect(records.map((r) => restored(r.counterparty!))).toEqual(originals)
    expect(records.map((r) => JSON.parse(r.metadata!))).toEqual(
      originals.map((text) => ({ note: text, "k;=1": "v\t-1" })),
    )
    expect(records.map((r) => r.description)).toEqual(originals.map(neutralised))
    expect(
      records.flatMap((r) => Object.values(r)).filter((cell) => formulaStart.test(cell)),
    ).toEqual([])
    expect(file).toContain(`";'=cmd|' /C calc'!A0;"`)
    expect(file).toContain(`"a\t'=1+1"`)
    expect(file).toContain(`"plain; text"`)

    // Read with another separator: no cell a reader may start is a formula.
    for (const delimiter of [";", "\t"]) {
      const cells = (
        parse(file, { delimiter, relax_quotes: true, relax_column_count: true }) as Array<
          Array<string>
        >
      ).flat()
      expect(cells.length).toBeGreaterThan(records.length)
      expect(cells.filter((cell) => formulaStart.test(cell))).toEqual([])
    }
    expect(cellStartsSplitOn(file).filter((cell) => formulaStart.test(cell))).toEqual([])
  })

  it("writes any text so that read with , it comes back and read with ; or tabs no cell starts a formula", async () => {
    const userId = newUserId()
    const account = accountOf(userId)
    const text = fc.string({
      unit: fc.constantFrom(..."=+-@\t\r\n;,\"' a\uFF1D\uFF0B"),
      maxLength: 12,
    })
    fc.assert(
      fc.property(
        fc.array(fc.record({ description: text, reference: text, key: text, value: text }), {
          minLength: 1,
          maxLength: 4,
        }),
        (fields) => {
          const file = PgExportBuilder.csvText(
            fields.map(({ description, reference, key, value }) =>
              transactionOf(account, {
                description,
                reference,
                metadata: key === "" ? {} : { [key]: value },
              }),
            ),
            true,
          )
          const records = parse(file, { columns: true }) as Array<Record<string, string>>
          expect(records.map((r) => [restored(r.description!), restored(r.reference!)])).toEqual(
            fields.map((f) => [f.description, f.reference]),
          )
          expect(records.map((r) => JSON.parse(r.metadata!))).toEqual(
            fields.map((f) => (f.key === "" ? {} : { [f.key]: f.value })),
          )
          expect(cellStartsSplitOn(file).filter((cell) => formulaStart.test(cell))).toEqual([])
        },
      ),
      { numRuns: 500 },
    )
  })

  it("resumes after a crash past the last committed chunk: every row exactly once", async () => {
    const created = await createExport(seeded.userId)
    const listed = await listAll(seeded.userId, {})
    // The third chunk's transaction fails, as if the worker died before committing it.
    const trigger = `fail_${created.id}`
    await sqlRun((sql) =>
      Effect.gen(function* () {
        yield* sql.unsafe(`
          create function ${trigger}() returns trigger language plpgsql as $$
          begin raise exception 'simulated crash'; end $$`)
        yield* sql.unsafe(`
          create trigger ${trigger} before insert on export_chunks for each row
            when (new.export_id = '${created.id}' and new.seq = 2) execute function ${trigger}()`)
      }),
    )
    const options = { batchSize: 10, chunkBytes: 3_000 }
    const crashed = await runtime.runPromiseExit(PgExportBuilder.build(created.id, options))
    await sqlRun((sql) =>
      Effect.gen(function* () {
        yield* sql.unsafe(`drop trigger ${trigger} on export_chunks`)
        yield* sql.unsafe(`drop function ${trigger}()`)
      }),
    )
    expect(Exit.isFailure(crashed)).toBe(true)
    const halfway = await getExport(seeded.userId, created.id)
    expect(halfway).toMatchObject({ status: "running", downloadUrl: null })
    expect(halfway.rowsWritten).toBeGreaterThan(0)
    expect(halfway.rowsWritten).toBeLessThan(listed.length)
    const committed = await chunksOf(created.id)
    expect(committed.map((chunk) => chunk.seq)).toEqual([0, 1])

    const outcome = await build(created.id, options)
    expect(outcome).toMatchObject({ _tag: "Completed", rows: listed.length })
    const chunks = await chunksOf(created.id)
    // The chunks written before the crash are kept as they were; the rest follow them.
    expect(chunks.slice(0, 2)).toEqual(committed)
    const ids = (await recordsOf(created.id)).map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(await recordsOf(created.id)).toEqual(listed.map(csvOf))
    expect(await getExport(seeded.userId, created.id)).toMatchObject({
      status: "completed",
      rowsWritten: listed.length,
      totalRows: listed.length,
      progress: 1,
    })
  })

  it("shows progress rising while it runs, then completed with progress 1", async () => {
    const created = await createExport(seeded.userId)
    expect(created).toMatchObject({ status: "queued", progress: 0, totalRows: null })
    // Each chunk takes a while to commit, so the test sees the build between chunks.
    const trigger = `slow_${created.id}`
    await sqlRun((sql) =>
      Effect.gen(function* () {
        yield* sql.unsafe(`
          create function ${trigger}() returns trigger language plpgsql as $$
          begin perform pg_sleep(0.05); return new; end $$`)
        yield* sql.unsafe(`
          create trigger ${trigger} before insert on export_chunks for each row
            when (new.export_id = '${created.id}') execute function ${trigger}()`)
      }),
    )
    try {
      let finished = false
      const building = build(created.id, { batchSize: 10, chunkBytes: 3_000 }).finally(() => {
        finished = true
      })
      const seen: Array<Export> = []
      while (!finished) {
        seen.push(await getExport(seeded.userId, created.id))
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await building
      const done = await getExport(seeded.userId, created.id)
      const running = seen.filter((e) => e.status === "running" && e.totalRows !== null)
      const progress = running.map((e) => e.progress)
      expect(new Set(progress.filter((p) => p > 0 && p < 1)).size).toBeGreaterThanOrEqual(3)
      expect(progress).toEqual(progress.toSorted((a, b) => a - b))
      for (const e of running) {
        expect(e.totalRows).toBe(seeded.created.length)
        expect(e.progress).toBe(Math.round((e.rowsWritten * 10_000) / e.totalRows!) / 10_000)
        expect(e.downloadUrl).toBeNull()
        expect(e.startedAt).not.toBeNull()
      }
      expect(done).toMatchObject({
        status: "completed",
        progress: 1,
        rowsWritten: seeded.created.length,
        totalRows: seeded.created.length,
        downloadUrl: `/v1/exports/${created.id}/download`,
      })
      expect(Date.parse(done.completedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!))
    } finally {
      await sqlRun((sql) =>
        Effect.gen(function* () {
          yield* sql.unsafe(`drop trigger if exists ${trigger} on export_chunks`)
          yield* sql.unsafe(`drop function if exists ${trigger}()`)
        }),
      )
    }
  })

  it("writes each row once when two builds of one export run at the same time", async () => {
    const created = await createExport(seeded.userId)
    const outcomes = await Promise.all([
      build(created.id, { batchSize: 10, chunkBytes: 2_000 }),
      build(created.id, { batchSize: 10, chunkBytes: 2_000 }),
    ])
    expect(outcomes.filter((o) => o._tag === "Completed")).toHaveLength(1)
    expect(await recordsOf(created.id)).toEqual((await listAll(seeded.userId, {})).map(csvOf))
  })

  it("leaves a finished export alone when its job runs again", async () => {
    const created = await createExport(seeded.userId, { status: "pending" })
    await build(created.id)
    const before = {
      export: await getExport(seeded.userId, created.id),
      file: await fileOf(created.id),
    }
    expect(await build(created.id)).toEqual({ _tag: "AlreadyFinished", status: "completed" })
    expect(await getExport(seeded.userId, created.id)).toEqual(before.export)
    expect(await fileOf(created.id)).toBe(before.file)
    expect(await build(makeId("exp") as ExportId)).toEqual({ _tag: "Missing" })
  })

  it("marks an export it can never build failed, with a message saying why", async () => {
    const userId = await runtime.runPromise(createUser)
    const id = makeId("exp") as ExportId
    await sqlRun(
      (sql) => sql`
        insert into exports (id, user_id, filters, created_at, expires_at)
        values (${id}, ${userId}, '{"minAmount": "lots"}', now(), now() + interval '7 days')`,
    )
    const outcome = await build(id)
    expect(outcome._tag).toBe("Failed")
    const failed = await getExport(userId, id)
    expect(failed).toMatchObject({ status: "failed", downloadUrl: null, completedAt: null })
    expect(failed.error).toContain("The export's filters are not valid")
    expect(failed.error).toContain("minAmount")
    expect(await build(id)).toEqual({ _tag: "AlreadyFinished", status: "failed" })
  })
})

describe("batches", () => {
  interface PlanNode {
    readonly "Node Type": string
    readonly "Actual Rows": number
    readonly "Actual Loops": number
    readonly "Rows Removed by Filter"?: number
    readonly "Parent Relationship"?: string
    readonly Plans?: ReadonlyArray<PlanNode>
  }

  /** The scans of one batch statement, and the table rows they read (kept or filtered out). */
  const planOf = async (
    exportId: ExportId,
    userId: UserId,
    filters: ExportFilters,
    lastId: string | null,
  ) =>
    sqlRun((sql) =>
      Effect.gen(function* () {
        const [text, params] = PgExportBuilder.batchStatement(
          sql,
          { exportId, userId, filters },
          lastId,
          100,
        ).compile()
        const [row] = yield* sql.unsafe<{ "QUERY PLAN": unknown }>(
          `explain (analyze, format json) ${text}`,
          params,
        )
        const json = row!["QUERY PLAN"]
        const [top] = (typeof json === "string" ? JSON.parse(json) : json) as [{ Plan: PlanNode }]
        const nodes: Array<PlanNode> = []
        const walk = (node: PlanNode) => {
          nodes.push(node)
          node.Plans?.forEach(walk)
        }
        walk(top.Plan)
        // The top node is the Limit; its outer child reads the table (the InitPlans look up the
        // export's time and the position, one row each by primary key).
        const main = top.Plan.Plans?.find((node) => node["Parent Relationship"] === "Outer")
        return { nodes, main }
      }),
    )

  it("reads at most batchSize + 1 rows per query, in index order, wherever the batch starts", async () => {
    // 20,000 rows of one user: enough that the planner reads an index range rather than the
    // table, as it does at scale, and a batch of 100 that read them all would show.
    const userId = await runtime.runPromise(createUser)
    const account = await runtime.runPromise(insertAccount(accountOf(userId)))
    await sqlRun(
      (sql) => sql`
        insert into transactions (id, account_id, user_id, direction, amount, currency, status,
                                  occurred_at, metadata, version, created_at, updated_at)
        select 'txn_' || substr(md5(${userId} || n), 1, 26), ${account.id}, ${userId},
               case when n % 3 = 0 then 'credit' else 'debit' end, n, 'EUR',
               case when n % 4 = 0 then 'pending' else 'posted' end,
               timestamptz '2026-01-01' + n * interval '1 minute', '{}', 1,
               timestamptz '2026-01-01', timestamptz '2026-01-01'
          from generate_series(1, 20000) as n`,
    )
    await sqlRun((sql) => sql`analyze transactions`)
    const created = await createExport(userId)
    const ids = (
      await sqlRun(
        (sql) => sql<{ readonly id: string }>`
          select id from transactions where user_id = ${userId} order by occurred_at desc, id desc`,
      )
    ).map((row) => row.id)
    for (const filters of [
      {},
      { accountId: account.id },
      { status: "pending" as const },
      { direction: "credit" as const },
    ]) {
      for (const lastId of [null, ids[99]!, ids[10_000]!, ids[19_950]!]) {
        const { nodes, main } = await planOf(created.id, userId, filters, lastId)
        const what = `${JSON.stringify(filters)} after ${lastId}`
        expect([what, nodes.some((node) => node["Node Type"].includes("Sort"))]).toEqual([
          what,
          false,
        ])
        expect([what, main?.["Node Type"]]).toEqual([what, "Index Scan"])
        const read =
          (main!["Actual Rows"] + (main!["Rows Removed by Filter"] ?? 0)) * main!["Actual Loops"]
        expect([what, read <= 101]).toEqual([what, true])
      }
    }
  })
})

describe("Exports", () => {
  it("replays the first answer for a retried idempotency key, and starts one export", async () => {
    const userId = await runtime.runPromise(createUser)
    const input = { idempotencyKey: "export-1", direction: "debit" as const }
    const first = await runtime.runPromise(Exports.use((exports) => exports.create(userId, input)))
    const again = await runtime.runPromise(Exports.use((exports) => exports.create(userId, input)))
    expect(again).toEqual({ ...first, replayed: true })
    const reused = await runtime.runPromiseExit(
      Exports.use((exports) => exports.create(userId, { ...input, direction: "credit" })),
    )
    expect(failureTag(reused)).toBe("IdempotencyKeyReused")
    const [count] = await sqlRun(
      (sql) => sql<{ readonly count: number }>`
        select count(*)::int as count from exports where user_id = ${userId}`,
    )
    expect(count!.count).toBe(1)
  })

  it("answers NotFound for another user's export, a missing one and an expired one", async () => {
    const owner = await runtime.runPromise(createUser)
    const stranger = await runtime.runPromise(createUser)
    const created = await createExport(owner)
    const notFound = async (userId: UserId, id: ExportId) => {
      const exit = await runtime.runPromiseExit(
        Exports.use((exports) => exports.get(userId, { id })),
      )
      expect(failureTag(exit)).toBe("NotFound")
    }
    await notFound(stranger, created.id)
    await notFound(owner, makeId("exp") as ExportId)
    expect(await getExport(owner, created.id)).toEqual(created)
    await sqlRun(
      (sql) =>
        sql`update exports set expires_at = now() - interval '1 second' where id = ${created.id}`,
    )
    await notFound(owner, created.id)
  })

  it("is created queued, expiring after 7 days, with an export.created event; export.completed follows the build", async () => {
    const userId = await runtime.runPromise(createUser)
    const created = await createExport(userId, { direction: "credit" })
    expect(created).toEqual({
      id: expect.stringMatching(/^exp_[0-9a-z]{26}$/),
      status: "queued",
      filters: { direction: "credit" },
      totalRows: null,
      rowsWritten: 0,
      progress: 0,
      bytes: 0,
      error: null,
      createdAt: expect.any(String),
      startedAt: null,
      completedAt: null,
      expiresAt: new Date(Date.parse(created.createdAt) + 7 * 86_400_000).toISOString(),
      downloadUrl: null,
    })
    await build(created.id)
    const completed = await getExport(userId, created.id)
    const events = await sqlRun(
      (sql) => sql<{ readonly type: string; readonly data: { readonly export: Export } }>`
        select type, data from outbox where user_id = ${userId} order by seq`,
    )
    expect(events).toEqual([
      { type: "export.created", data: { export: created } },
      { type: "export.completed", data: { export: completed } },
    ])
  })

  it("makes an export.failed event when a build is marked failed", async () => {
    const userId = await runtime.runPromise(createUser)
    const created = await createExport(userId)
    expect(await runtime.runPromise(PgExportBuilder.markFailed(created.id, "Gave up"))).toBe(true)
    const failed = await getExport(userId, created.id)
    expect(failed).toMatchObject({ status: "failed", error: "Gave up" })
    const events = await sqlRun(
      (sql) => sql<{ readonly type: string; readonly data: { readonly export: Export } }>`
        select type, data from outbox where user_id = ${userId} order by seq`,
    )
    expect(events.map((e) => e.type)).toEqual(["export.created", "export.failed"])
    expect(events[1]!.data.export).toEqual(failed)
    expect(await runtime.runPromise(PgExportBuilder.markFailed(created.id, "Again"))).toBe(false)
  })

  it("hands out the chunks of a completed export only, to its owner only", async () => {
    const created = await createExport(seeded.userId, { accountId: seeded.other.id })
    const stranger = await runtime.runPromise(createUser)
    const read = (userId: UserId, seq: number) =>
      runtime.runPromise(Exports.use((exports) => exports.readChunk(userId, created.id, seq)))
    expect(Option.isNone(await read(seeded.userId, 0))).toBe(true)
    await build(created.id)
    const chunk = await read(seeded.userId, 0)
    expect(Option.isSome(chunk)).toBe(true)
    expect(Buffer.from(Option.getOrThrow(chunk)).toString("utf8")).toBe(await fileOf(created.id))
    expect(Option.isNone(await read(seeded.userId, 1))).toBe(true)
    expect(Option.isNone(await read(stranger, 0))).toBe(true)
  })
})
