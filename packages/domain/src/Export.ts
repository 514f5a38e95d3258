import * as Schema from "effect/Schema"
import { Timestamp } from "./Common.ts"
import { IdempotencyKey } from "./Idempotency.ts"
import { ExportId } from "./Ids.ts"
import { ListTransactions } from "./Transaction.ts"

/** queued -> running -> completed | failed; a retried build goes from running to running. */
export const ExportStatus = Schema.Literals(["queued", "running", "completed", "failed"])
export type ExportStatus = typeof ExportStatus.Type

/** How long an export and its file are kept after it was created. */
export const exportRetentionDays = 7

const { cursor: _cursor, limit: _limit, ...filterFields } = ListTransactions.fields

/** What an export selects: the filters of `transactions.list`, without its paging. */
export const ExportFilters = Schema.Struct(filterFields)
export type ExportFilters = typeof ExportFilters.Type

/** A CSV file of a user's transactions, built in the background. */
export const Export = Schema.Struct({
  id: ExportId,
  status: ExportStatus,
  filters: ExportFilters,
  /** How many rows the file will hold; null until the build has counted them. */
  totalRows: Schema.NullOr(Schema.Number),
  rowsWritten: Schema.Number,
  /** rowsWritten / totalRows, from 0 to 1 (rounded to 4 decimals); 1 once completed. */
  progress: Schema.Number,
  /** Size of the file written so far. */
  bytes: Schema.Number,
  /** Why the build failed, when it did. */
  error: Schema.NullOr(Schema.String),
  createdAt: Timestamp,
  startedAt: Schema.NullOr(Timestamp),
  completedAt: Schema.NullOr(Timestamp),
  /** After this the export and its file are gone. */
  expiresAt: Timestamp,
  /** `/v1/exports/<id>/download` once completed, else null. */
  downloadUrl: Schema.NullOr(Schema.String),
})
export type Export = typeof Export.Type

export const CreateExport = Schema.Struct({
  /** Retrying with the same key never starts a second export. */
  idempotencyKey: Schema.optionalKey(IdempotencyKey),
  ...filterFields,
})
export type CreateExport = typeof CreateExport.Type

export const GetExport = Schema.Struct({ id: ExportId })
export type GetExport = typeof GetExport.Type
