import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { migrate } from "../src/index.ts"
import { makeRuntime, type TestRuntime } from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

const query = <A extends object>(text: string) =>
  runtime.runPromise(SqlClient.SqlClient.use((sql) => sql.unsafe<A>(text)))

describe("migrations", () => {
  it("applies nothing when run again on the migrated database", async () => {
    expect(await runtime.runPromise(migrate)).toEqual([])
  })

  it("records every migration as applied, in order", async () => {
    const rows = await query<{ migrationId: number; name: string }>(
      "select migration_id, name from txn_migrations order by migration_id",
    )
    expect(rows.map((row) => [row.migrationId, row.name])).toEqual([
      [1, "initial"],
      [2, "api_keys"],
      [3, "history"],
      [4, "list_indexes"],
      [5, "lifecycle"],
      [6, "balances"],
      [7, "transfers"],
      [8, "idempotency"],
      [9, "outbox"],
      [10, "webhooks"],
      [11, "exports"],
      [12, "reconciliation"],
      [13, "delivery_times"],
      [14, "balance_limits"],
      [15, "attempts_at_claim"],
      [17, "history_relay"],
      [18, "api_key_changes"],
      [19, "batch_writes"],
      [20, "client_tokens"],
    ])
  })

  it("creates the users, accounts, transactions, api_keys and transaction_events tables", async () => {
    const rows = await query<{ tableName: string }>(
      `select table_name from information_schema.tables
        where table_schema = current_schema()
          and table_name in ('users', 'accounts', 'transactions', 'api_keys', 'transaction_events')`,
    )
    expect(rows.map((row) => row.tableName).sort()).toEqual([
      "accounts",
      "api_keys",
      "transaction_events",
      "transactions",
      "users",
    ])
  })

  it("creates every index the migration names", async () => {
    const rows = await query<{ indexname: string }>(
      `select indexname from pg_indexes
        where schemaname = current_schema()
          and tablename in ('accounts', 'transactions', 'api_keys', 'transaction_events')`,
    )
    expect(rows.map((row) => row.indexname)).toEqual(
      expect.arrayContaining([
        "accounts_user_created_idx",
        "accounts_user_currency_created_idx",
        "transactions_user_occurred_idx",
        "transactions_account_occurred_idx",
        "transactions_user_status_occurred_idx",
        "transactions_user_direction_occurred_idx",
        "transactions_user_category_occurred_idx",
        "transactions_user_amount_idx",
        "transactions_search_idx",
        "transactions_pending_expiry_idx",
        "api_keys_user_created_idx",
        "api_keys_secret_hash_key",
        "transaction_events_feed_idx",
        "transaction_events_transaction_id_version_key",
      ]),
    )
  })

  it("indexes only pending holds with an expiry for the expiry sweep", async () => {
    const [row] = await query<{ indexdef: string }>(
      "select indexdef from pg_indexes where indexname = 'transactions_pending_expiry_idx'",
    )
    expect(row?.indexdef).toMatch(
      /WHERE \(\(status = 'pending'::text\) AND \(expires_at IS NOT NULL\)\)/,
    )
  })

  it("npm run db:migrate with a bad setting names it and exits 1, without a stack trace", () => {
    const script = fileURLToPath(new URL("../src/bin/migrate.ts", import.meta.url))
    const run = spawnSync(process.execPath, [script], {
      env: { ...process.env, TXN_REQUEST_TIMEOUT_MS: "abc" },
      encoding: "utf8",
      timeout: 30_000,
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain("TXN_REQUEST_TIMEOUT_MS")
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })
})
