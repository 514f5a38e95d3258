import {
  type BuildOptions,
  ExportBuilder,
  ExportFilters,
  type ExportId,
  type Transaction,
  type UserId,
} from "@txn/domain"
import { stringify } from "csv-stringify/sync"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { withoutTransforms } from "./rows.ts"
import {
  fieldColumns,
  listConditions,
  type TransactionRow,
  toTransaction,
} from "./transactions/rows.ts"

export type { BuildOptions, BuildOutcome } from "@txn/domain"

/** The CSV's columns, in order; the header row names them. */
export const csvColumns = [
  "id",
  "occurredAt",
  "accountId",
  "direction",
  "amount",
  "currency",
  "status",
  "description",
  "category",
  "counterparty",
  "reference",
  "transferId",
  "reversalOf",
  "reversedBy",
  "createdAt",
  "updatedAt",
  "metadata",
] as const satisfies ReadonlyArray<keyof Transaction>

/**
 * Where a spreadsheet may begin a cell inside a text value: at its start, and after a `;`, tab or
 * line break in it, since a reader splitting on `;` (a list separator) or tabs (a tab-delimited
 * import) starts a cell or row there whatever the quoting. A `'` goes in front of any formula
 * start there (= + - @ tab CR, and the full-width ＝ ＋ － ＠), so the cell shows as text. Quotes and
 * apostrophes before it are looked through: a reader may open a quoted cell on a quote, and a value
 * already holding `'=` gets a second `'`, so dropping one `'` at each such place gives back
 * exactly the value stored.
 */
const formulaCellStart = /(?<=^|[;\t\r\n])(?=["']*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/g

const textCell = (text: string | null) =>
  text === null ? null : text.replace(formulaCellStart, "'")

/**
 * The metadata as JSON with `;` written as `\u003b` (JSON.stringify already escapes tabs and line
 * breaks): the same object once parsed, with no separator a `;` or tab reader would split on.
 */
const metadataCell = (metadata: Transaction["metadata"]) =>
  JSON.stringify(metadata).replaceAll(";", "\\u003b")

const csvRecord = (t: Transaction) => [
  t.id,
  t.occurredAt,
  t.accountId,
  t.direction,
  t.amount,
  t.currency,
  t.status,
  textCell(t.description),
  textCell(t.category),
  textCell(t.counterparty),
  textCell(t.reference),
  t.transferId,
  t.reversalOf,
  t.reversedBy,
  t.createdAt,
  t.updatedAt,
  metadataCell(t.metadata),
]

/**
 * The CSV of these transactions. csv-stringify quotes a field holding a comma, a quote or a line
 * break, and `quoted_match` adds `;` and tabs, so a reader honouring quotes never splits a value,
 * whichever of those separators it expects.
 */
export const csvText = (transactions: ReadonlyArray<Transaction>, header: boolean) =>
  stringify(transactions.map(csvRecord), {
    header,
    columns: [...csvColumns],
    quoted_match: /[;\t]/,
  })

const toCsv = (rows: ReadonlyArray<TransactionRow>, header: boolean) =>
  csvText(rows.map(toTransaction), header)

/** Which rows an export holds: its user's, matching its filters. */
interface Selection {
  readonly exportId: ExportId
  readonly userId: UserId
  readonly filters: ExportFilters
}

/**
 * The list's own filter conditions, and only rows created at or before the export: the list as it
 * stood when the export was created. The export's time is read in the statement (once), so every
 * batch and every attempt shares it exactly.
 */
const snapshotConditions = (sql: SqlClient.SqlClient, selection: Selection) => [
  ...listConditions(sql, selection.userId, selection.filters),
  sql`created_at <= (select e.created_at from exports e where e.id = ${selection.exportId})`,
]

/**
 * One batch: the next `limit` rows after `lastId` in list order, newest first. It reads the same
 * index range a list page does, so each batch costs the same wherever it starts; the tests check
 * the plans. The position is the last written row's own `(occurred_at, id)`, looked up by id so it
 * is exact to the microsecond, not rounded to a JavaScript Date's millisecond.
 */
export const batchStatement = (
  sql: SqlClient.SqlClient,
  selection: Selection,
  lastId: string | null,
  limit: number,
) => {
  const after =
    lastId === null
      ? []
      : [
          sql`(occurred_at, id) < ((select t.occurred_at from transactions t where t.id = ${lastId}), ${lastId})`,
        ]
  const raw = withoutTransforms(sql)
  return raw<TransactionRow>`
    select ${raw.literal(fieldColumns)} from transactions
     where ${sql.and([...snapshotConditions(sql, selection), ...after])}
     order by occurred_at desc, id desc
     limit ${limit}`
}

interface Claimed {
  readonly userId: string
  readonly filters: unknown
  readonly totalRows: string | null
  readonly rowsWritten: string
  readonly bytes: string
  readonly chunks: number
  readonly lastId: string | null
}

/**
 * Marks the export failed with `message`, unless it already finished; true when it did so.
 * The message is shown to the user: it should say what happened, never internals.
 */
export const markFailed = (exportId: ExportId, message: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql`
      update exports set status = 'failed', error = ${message.slice(0, 1000)}
       where id = ${exportId} and status in ('queued', 'running')
      returning id`
    return rows.length > 0
  }).pipe(Effect.orDie, Effect.withSpan("PgExportBuilder.markFailed"))

/**
 * Writes the export's CSV into `export_chunks`, in constant memory: rows are read in keyset
 * batches in list order (newest first), turned into CSV, and buffered until about `chunkBytes`;
 * each chunk is inserted in one database transaction with the export's new `rows_written`, `bytes`
 * and keyset position, so progress is visible as it goes and a build that dies resumes after the
 * last committed chunk: no row is written twice or skipped. The rows are those matching the
 * filters that were created at or before the export, so the file is the list as it stood then
 * (each row with its fields as read). Database failures are defects: the job retries them.
 */
export const build = (exportId: ExportId, options: BuildOptions = {}) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const batchSize = options.batchSize ?? 1_000
    const chunkBytes = options.chunkBytes ?? 1024 * 1024

    const [claimed] = yield* sql<Claimed>`
      update exports
         set status = 'running', started_at = coalesce(started_at, now()), attempts = attempts + 1
       where id = ${exportId} and status in ('queued', 'running')
      returning user_id, filters, total_rows::text, rows_written::text, bytes::text, chunks, last_id`
    if (claimed === undefined) {
      const [found] = yield* sql<{ readonly status: "completed" | "failed" }>`
        select status from exports where id = ${exportId}`
      return found === undefined
        ? ({ _tag: "Missing" } as const)
        : ({ _tag: "AlreadyFinished", status: found.status } as const)
    }
    const filters = Schema.decodeUnknownResult(ExportFilters)(claimed.filters)
    if (Result.isFailure(filters)) {
      const error = `The export's filters are not valid: ${filters.failure.message}`
      yield* markFailed(exportId, error)
      return { _tag: "Failed", error } as const
    }

    const selection = { exportId, userId: claimed.userId as UserId, filters: filters.success }
    if (claimed.totalRows === null) {
      yield* sql`
        update exports
           set total_rows = (select count(*) from transactions
                              where ${sql.and(snapshotConditions(sql, selection))})
         where id = ${exportId}`
    }

    let seq = claimed.chunks
    let rowsWritten = Number(claimed.rowsWritten)
    let bytes = Number(claimed.bytes)
    let lastId = claimed.lastId
    // The header starts the first chunk; a build resuming after a committed chunk has written it.
    let header = seq === 0
    let parts: Array<string> = []
    let bufferedBytes = 0
    let bufferedRows = 0
    const append = (text: string, rows: number) => {
      parts.push(text)
      bufferedBytes += Buffer.byteLength(text, "utf8")
      bufferedRows += rows
    }

    /** Commits the buffer as chunk `seq`, with the progress it makes; false if superseded. */
    const flush = Effect.gen(function* () {
      const data = Buffer.from(parts.join(""), "utf8")
      const moved = yield* sql`
        update exports
           set chunks = chunks + 1, rows_written = rows_written + ${bufferedRows},
               bytes = bytes + ${data.byteLength}, last_id = ${lastId},
               last_occurred_at = (select occurred_at from transactions where id = ${lastId})
         where id = ${exportId} and status = 'running' and chunks = ${seq}
        returning id`
      if (moved.length === 0) return false
      yield* sql`insert into export_chunks (export_id, seq, data) values (${exportId}, ${seq}, ${data})`
      return true
    }).pipe(sql.withTransaction)

    for (;;) {
      const batch = yield* batchStatement(sql, selection, lastId, batchSize)
      if (batch.length > 0) {
        append(toCsv(batch, header), batch.length)
        header = false
        lastId = batch.at(-1)!.id
      }
      const done = batch.length < batchSize
      // An export without rows still gets a file: the header alone.
      if (done && header) {
        append(toCsv([], true), 0)
        header = false
      }
      if (bufferedBytes >= chunkBytes || (done && bufferedBytes > 0)) {
        if (!(yield* flush)) return { _tag: "Superseded" } as const
        seq += 1
        rowsWritten += bufferedRows
        bytes += bufferedBytes
        parts = []
        bufferedBytes = 0
        bufferedRows = 0
      }
      if (done) break
    }

    // Rows can leave the filter while the build runs (a hold posted while exporting pending
    // ones), so the count taken at the start gives way to the rows actually written.
    const completed = yield* sql`
      update exports
         set status = 'completed', completed_at = now(), total_rows = rows_written
       where id = ${exportId} and status = 'running' and chunks = ${seq}
      returning id`
    if (completed.length === 0) return { _tag: "Superseded" } as const
    return { _tag: "Completed", rows: rowsWritten, bytes, chunks: seq } as const
  }).pipe(Effect.orDie, Effect.withSpan("PgExportBuilder.build", { attributes: { exportId } }))

/** The ExportBuilder port on this database. */
export const layer = Layer.effect(
  ExportBuilder,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const onThis = <A>(effect: Effect.Effect<A, never, SqlClient.SqlClient>) =>
      Effect.provideService(effect, SqlClient.SqlClient, sql)
    return ExportBuilder.of({
      build: (exportId, options) => onThis(build(exportId, options)),
      markFailed: (exportId, message) => onThis(markFailed(exportId, message)),
    })
  }),
)
