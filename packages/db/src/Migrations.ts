import * as Effect from "effect/Effect"
import * as Migrator from "effect/sql/Migrator"
import initial from "./migrations/0001_initial.ts"
import apiKeys from "./migrations/0002_api_keys.ts"
import history from "./migrations/0003_history.ts"
import listIndexes from "./migrations/0004_list_indexes.ts"
import lifecycle from "./migrations/0005_lifecycle.ts"
import balances from "./migrations/0006_balances.ts"
import transfers from "./migrations/0007_transfers.ts"
import idempotency from "./migrations/0008_idempotency.ts"
import outbox from "./migrations/0009_outbox.ts"
import webhooks from "./migrations/0010_webhooks.ts"
import exportsTables from "./migrations/0011_exports.ts"
import reconciliation from "./migrations/0012_reconciliation.ts"
import deliveryTimes from "./migrations/0013_delivery_times.ts"
import balanceLimits from "./migrations/0014_balance_limits.ts"
import attemptsAtClaim from "./migrations/0015_attempts_at_claim.ts"
import historyRelay from "./migrations/0017_history_relay.ts"
import apiKeyChanges from "./migrations/0018_api_key_changes.ts"
import batchWrites from "./migrations/0019_batch_writes.ts"
import clientTokens from "./migrations/0020_client_tokens.ts"

/** Forward-only and numbered; append new ones, never edit an applied one. */
export const migrations = Migrator.fromRecord({
  "0001_initial": initial,
  "0002_api_keys": apiKeys,
  "0003_history": history,
  "0004_list_indexes": listIndexes,
  "0005_lifecycle": lifecycle,
  "0006_balances": balances,
  "0007_transfers": transfers,
  "0008_idempotency": idempotency,
  "0009_outbox": outbox,
  "0010_webhooks": webhooks,
  "0011_exports": exportsTables,
  "0012_reconciliation": reconciliation,
  "0013_delivery_times": deliveryTimes,
  "0014_balance_limits": balanceLimits,
  "0015_attempts_at_claim": attemptsAtClaim,
  "0017_history_relay": historyRelay,
  "0018_api_key_changes": apiKeyChanges,
  "0019_batch_writes": batchWrites,
  "0020_client_tokens": clientTokens,
})

/** Applies pending migrations in one transaction under a lock; returns the ones applied. */
export const migrate = Migrator.make({})({ loader: migrations, table: "txn_migrations" }).pipe(
  Effect.withSpan("Migrations.migrate"),
)
