import { PgClient } from "@effect/sql-pg"
import { type Redacted, String as Str } from "effect"

export interface DatabaseOptions {
  readonly url: Redacted.Redacted<string>
  readonly maxConnections?: number
}

/** The SqlClient for the app: snake_case columns in SQL, camelCase fields in TypeScript. */
export const layer = (options: DatabaseOptions) =>
  PgClient.layer({
    url: options.url,
    maxConnections: options.maxConnections ?? 10,
    applicationName: "txn",
    transformResultNames: Str.snakeToCamel,
    transformQueryNames: Str.camelToSnake,
    // Column names only: JSON values (metadata) are the caller's data, returned with their keys
    // exactly as written (`order_id` must not come back as `orderId`).
    transformJson: false,
  })
