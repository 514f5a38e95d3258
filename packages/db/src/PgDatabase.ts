import { PgClient } from "@effect/sql-pg"
import type * as Redacted from "effect/Redacted"
import * as Str from "effect/String"

export interface DatabaseOptions {
  readonly url: Redacted.Redacted<string>
  readonly maxConnections?: number
  /** What PostgreSQL shows the connections as (`pg_stat_activity.application_name`); `txn` unless given. */
  readonly applicationName?: string
  /**
   * Whether statements are prepared once per connection and reused (the default). Off behind a
   * pooler in transaction mode, where the next statement may reach another server connection.
   */
  readonly prepare?: boolean
}

/**
 * `snakeToCamel`, remembered per column name: every row of every result renames the same few
 * columns, and a page of 50 transactions is a thousand renames. Column names come from this
 * code's own SQL, so the set is small; the bound only guards against a surprise.
 */
const columnToField = (() => {
  const fields = new Map<string, string>()
  return (column: string) => {
    let field = fields.get(column)
    if (field === undefined) {
      field = Str.snakeToCamel(column)
      if (fields.size < 10_000) fields.set(column, field)
    }
    return field
  }
})()

/** The SqlClient for the app: snake_case columns in SQL, camelCase fields in TypeScript. */
export const layer = (options: DatabaseOptions) =>
  PgClient.layer({
    url: options.url,
    maxConnections: options.maxConnections ?? 10,
    applicationName: options.applicationName ?? "txn",
    prepare: options.prepare ?? true,
    transformResultNames: columnToField,
    transformQueryNames: Str.camelToSnake,
    // Column names only: JSON values (metadata) are the caller's data, returned with their keys
    // exactly as written (`order_id` must not come back as `orderId`).
    transformJson: false,
  })
