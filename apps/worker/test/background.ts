import {
  type Account,
  Accounts,
  type CreatedWebhook,
  CreateTransaction,
  CreateWebhook,
  newUserId,
  type UserId,
  UserRepository,
  Webhooks,
} from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { BullHoldScheduler, makeQueueBackend, Queues } from "@txn/queue"
import { LogCapture, uniquePrefix } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { WorkerMetrics } from "../src/metrics.ts"
import type { BackgroundSettings } from "../src/settings.ts"
import { startWorkers } from "../src/startWorkers.ts"
import type { WebhookNetwork } from "../src/WebhookClient.ts"
import { createPrivateDatabase } from "./fixtures.ts"

/** Timings short enough for tests; the behaviour is the production one. */
export const fastSettings: Partial<BackgroundSettings> = {
  relayPollMs: 250,
  relayStaleMs: 2_000,
  enqueueTimeoutMs: 1_000,
  webhookBackoffMs: 200,
  webhookAttempts: 4,
  webhookTimeoutMs: 2_000,
  lockDurationMs: 3_000,
}

/**
 * A private database, the app's use cases over it, and (unless `workers: false`) every consumer,
 * scheduler and the relay on the given queue backend, as the worker process runs them.
 */
export const startBackground = async (options: {
  readonly redisUrl: Redacted.Redacted<string> | undefined
  readonly settings?: Partial<BackgroundSettings>
  readonly workers?: boolean
  readonly label?: string
  /**
   * Private targets are on unless a test says otherwise: the tests' receivers listen on
   * 127.0.0.1, which production refuses.
   */
  readonly webhookNetwork?: WebhookNetwork
  /** Counts what the workers do, for /metrics. */
  readonly metrics?: WorkerMetrics
}) => {
  const webhookNetwork = options.webhookNetwork ?? { allowPrivate: true }
  const database = await createPrivateDatabase(options.label ?? "background")
  const logs = new LogCapture()
  const log = makeLog({ name: "worker", level: "info", destination: logs })
  const prefix = uniquePrefix("bg")
  const queues = makeQueueBackend({
    redisUrl: options.redisUrl,
    databaseUrl: database.url,
    prefix,
  })
  const holds = queues.queue(Queues.holds)
  const runtime = ManagedRuntime.make(
    makeAppLayer({
      databaseUrl: database.url,
      databasePoolMax: 8,
      holdScheduler: BullHoldScheduler.layer(holds),
      log,
      webhookTargets: webhookNetwork,
    }),
  )
  const settings = { ...fastSettings, ...options.settings }
  let workers =
    options.workers === false
      ? undefined
      : await startWorkers({
          queues,
          runtime,
          log,
          settings,
          webhookNetwork,
          ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        })

  const userId: UserId = newUserId()
  await runtime.runPromise(
    UserRepository.use((users) =>
      users.ensure({ id: userId, name: "Background test", createdAt: new Date().toISOString() }),
    ),
  )
  const query = <Row extends object>(text: string, ...params: Array<unknown>) =>
    runtime.runPromise(
      SqlClient.SqlClient.use((sql) => sql.unsafe<Row>(text, params)).pipe(Effect.orDie),
    )

  return {
    database,
    /** The queues' prefix, for a second process's own backend on the same queues. */
    prefix,
    logs,
    log,
    queues,
    runtime,
    userId,
    query,
    startWorkers: async (overrides: Partial<BackgroundSettings> = {}) => {
      workers = await startWorkers({
        queues,
        runtime,
        log,
        settings: { ...settings, ...overrides },
        webhookNetwork,
      })
      return workers
    },
    stopWorkers: async () => {
      await workers?.close()
      workers = undefined
    },
    openAccount: (name = "Main") =>
      runtime.runPromise(
        Accounts.use((accounts) =>
          accounts.create(userId, {
            name,
            currency: "EUR" as Account["currency"],
            allowNegative: true,
          }),
        ),
      ),
    createWebhook: (input: {
      readonly url: string
      readonly eventTypes: ReadonlyArray<string>
    }): Promise<CreatedWebhook> =>
      runtime.runPromise(
        Webhooks.use((webhooks) =>
          webhooks.create(userId, Schema.decodeUnknownSync(CreateWebhook)(input)),
        ),
      ),
    transaction: (account: Account, fields: Record<string, unknown> = {}) =>
      Schema.decodeUnknownSync(CreateTransaction)({
        accountId: account.id,
        direction: "credit",
        amount: 1_000,
        currency: account.currency,
        ...fields,
      }),
    close: async () => {
      await workers?.close()
      await holds.close()
      await queues.close()
      await runtime.dispose()
      await database.drop()
    },
  }
}

export type Background = Awaited<ReturnType<typeof startBackground>>

/** Another user of the same database, with no data. */
export const startBackgroundUser = async (bg: Background) => {
  const id: UserId = newUserId()
  await bg.runtime.runPromise(
    UserRepository.use((users) =>
      users.ensure({ id, name: "Another user", createdAt: new Date().toISOString() }),
    ),
  )
  return id
}
