import { createHash } from "node:crypto"
import {
  type CredentialCacheOptions,
  PgAccountRepository,
  PgApiKeyRepository,
  PgChangeFeed,
  PgCredentialCache,
  PgDatabase,
  PgExportRepository,
  PgIdempotencyStore,
  PgTransactionRepository,
  PgTransferRepository,
  PgUserRepository,
  PgWebhookRepository,
} from "@txn/db"
import {
  Access,
  Accounts,
  CredentialCache,
  Exports,
  type HoldScheduler,
  Sha256,
  Transactions,
  Transfers,
  Webhooks,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { type Log, logLayer } from "./Log.ts"
import { type WebhookTargetOptions, webhookTargetPolicyLayer } from "./WebhookTargets.ts"

export interface AppLayerOptions {
  readonly databaseUrl: Redacted.Redacted<string>
  readonly databasePoolMax: number
  readonly holdScheduler: Layer.Layer<HoldScheduler>
  readonly log: Log
  /** Private webhook targets are refused unless this allows them. */
  readonly webhookTargets?: WebhookTargetOptions
  /**
   * Keeps checked API keys in memory (for the API); unset, every authentication looks its key
   * up (the worker authenticates nobody).
   */
  readonly credentialCache?: CredentialCacheOptions
}

/** SHA-256 in this thread, at once: WebCrypto's digest of the same bytes without its job and promise. */
export const nodeSha256 = Layer.succeed(Sha256, (text: string) =>
  Effect.sync(() => createHash("sha256").update(text, "utf8").digest("hex")),
)

/** Use cases over their PostgreSQL repositories; built once per process into a ManagedRuntime. */
export const makeAppLayer = (options: AppLayerOptions) =>
  Layer.mergeAll(
    Accounts.layer,
    Transactions.layer,
    Transfers.layer,
    Exports.layer,
    Webhooks.layer,
    Access.layer,
  ).pipe(
    Layer.provideMerge(
      options.credentialCache === undefined
        ? CredentialCache.layerNone
        : PgCredentialCache.layer(options.credentialCache),
    ),
    Layer.provideMerge(
      Layer.mergeAll(
        PgAccountRepository.layer,
        PgTransactionRepository.layer,
        PgTransferRepository.layer,
        PgExportRepository.layer,
        PgIdempotencyStore.layer,
        PgUserRepository.layer,
        PgApiKeyRepository.layer,
        PgWebhookRepository.layer,
        PgChangeFeed.layer,
        webhookTargetPolicyLayer(options.webhookTargets ?? { allowPrivate: false }),
        options.holdScheduler,
      ),
    ),
    Layer.provideMerge(
      PgDatabase.layer({ url: options.databaseUrl, maxConnections: options.databasePoolMax }),
    ),
    Layer.provideMerge(logLayer(options.log)),
    Layer.provideMerge(nodeSha256),
    // A database that cannot be reached at start-up is fatal, not a domain error.
    Layer.orDie,
  )
