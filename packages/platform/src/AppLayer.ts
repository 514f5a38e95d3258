import { createHash } from "node:crypto"
import {
  type CredentialCacheOptions,
  PgAccountRepository,
  PgApiKeyRepository,
  PgChangeFeed,
  PgCredentialCache,
  PgDatabase,
  PgDeliveries,
  PgExportBuilder,
  PgExportRepository,
  PgIdempotencyStore,
  PgMaintenance,
  PgOutbox,
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
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as Layer from "effect/Layer"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import * as OtlpTracer from "effect/observability/OtlpTracer"
import type * as Redacted from "effect/Redacted"
import { type Log, logLayer } from "./Log.ts"
import { type WebhookTargetOptions, webhookTargetPolicyLayer } from "./WebhookTargets.ts"

export interface AppLayerOptions {
  readonly databaseUrl: Redacted.Redacted<string>
  readonly databasePoolMax: number
  /**
   * PostgreSQL itself when `databaseUrl` is a pooler in transaction mode: statements are then not
   * prepared, and LISTEN connects here.
   */
  readonly databaseDirectUrl?: Redacted.Redacted<string> | undefined
  /** The connections' name in `pg_stat_activity`; `txn` unless given. */
  readonly databaseApplicationName?: string
  readonly holdScheduler: Layer.Layer<HoldScheduler>
  readonly log: Log
  /** Private webhook targets are refused unless this allows them. */
  readonly webhookTargets?: WebhookTargetOptions
  /**
   * Keeps checked API keys in memory (for the API); unset, every authentication looks its key
   * up (the worker authenticates nobody).
   */
  readonly credentialCache?: CredentialCacheOptions
  /** Summaries kept in memory (for the API), checked against the database on each use; none unset. */
  readonly summaryCacheMax?: number
  /**
   * Sends the spans of every use case to an OpenTelemetry collector (OTLP/HTTP, JSON) at `url`
   * (its `/v1/traces`), as `serviceName`; unset, nothing is traced.
   */
  readonly tracing?: TracingOptions | undefined
}

export interface TracingOptions {
  readonly url: string
  readonly serviceName: string
  /** How often finished spans are sent (5 s unless given). */
  readonly exportIntervalMs?: number
}

/** Effect's OTLP tracer over fetch, or no tracer at all. */
const tracingLayer = (tracing: TracingOptions | undefined) =>
  tracing === undefined
    ? Layer.empty
    : OtlpTracer.layer({
        url: tracing.url,
        resource: { serviceName: tracing.serviceName },
        exportInterval: `${tracing.exportIntervalMs ?? 5_000} millis`,
      }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer))

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
        : PgCredentialCache.layer({
            ...options.credentialCache,
            listenUrl: options.databaseDirectUrl,
          }),
    ),
    Layer.provideMerge(
      Layer.mergeAll(
        PgAccountRepository.layer,
        PgTransactionRepository.layerWith({ summaryCacheMax: options.summaryCacheMax ?? 0 }),
        PgTransferRepository.layer,
        PgExportRepository.layer,
        PgIdempotencyStore.layer,
        PgUserRepository.layer,
        PgApiKeyRepository.layer,
        PgWebhookRepository.layer,
        PgChangeFeed.layer,
        PgOutbox.layer,
        PgDeliveries.layer,
        PgExportBuilder.layer,
        PgMaintenance.layer,
        webhookTargetPolicyLayer(options.webhookTargets ?? { allowPrivate: false }),
        options.holdScheduler,
      ),
    ),
    Layer.provideMerge(
      PgDatabase.layer({
        url: options.databaseUrl,
        maxConnections: options.databasePoolMax,
        prepare: options.databaseDirectUrl === undefined,
        ...(options.databaseApplicationName === undefined
          ? {}
          : { applicationName: options.databaseApplicationName }),
      }),
    ),
    Layer.provideMerge(logLayer(options.log)),
    Layer.provideMerge(tracingLayer(options.tracing)),
    Layer.provideMerge(nodeSha256),
    // A database that cannot be reached at start-up is fatal, not a domain error.
    Layer.orDie,
  )
