import { type AppConfig, loadConfigOrExit } from "@txn/config"
import { connectDatabaseOrExit, migrate } from "@txn/db"
import { BullHoldScheduler, makeQueueBackend, Queues } from "@txn/queue"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { makeAppLayer } from "./AppLayer.ts"
import { type Log, makeLog } from "./Log.ts"

/**
 * This process's connections as PostgreSQL lists them (`txn-api-4242`): its metrics count its own
 * connections in `pg_stat_activity`, not its replicas'.
 */
export const databaseApplicationName = (name: "api" | "worker") => `txn-${name}-${process.pid}`

/**
 * What the API and the worker processes both start from: validated config, the JSON log, the
 * database (embedded when DATABASE_URL is unset), the queue backend and the application runtime,
 * migrated unless NODE_ENV is production. `close()` releases them in reverse order.
 */
export const startAppProcess = async (name: "api" | "worker") => {
  const config: AppConfig = loadConfigOrExit()
  const log = makeLog({ name, level: config.logLevel })
  const database = await connectDatabaseOrExit(config)
  // A pooler in transaction mode would break the PostgreSQL queue backend's sessions.
  const queues = makeQueueBackend({
    redisUrl: config.redisUrl,
    databaseUrl: config.databaseDirectUrl ?? database.url,
    prefix: config.queuePrefix,
  })
  const holds = queues.queue(Queues.holds)
  const runtime = ManagedRuntime.make(
    makeAppLayer({
      databaseUrl: database.url,
      databasePoolMax: config.databasePoolMax,
      databaseDirectUrl: config.databaseDirectUrl,
      databaseApplicationName: databaseApplicationName(name),
      tracing:
        config.otlpEndpoint === undefined
          ? undefined
          : {
              url: new URL("v1/traces", `${config.otlpEndpoint.replace(/\/$/, "")}/`).href,
              serviceName: `txn-${name}`,
            },
      holdScheduler: BullHoldScheduler.layer(holds),
      log,
      webhookTargets: { allowPrivate: config.webhookAllowPrivate },
      ...(name === "api" ? { summaryCacheMax: config.summaryCacheMax } : {}),
      ...(name === "api" && config.apiKeyCacheTtlMs > 0
        ? {
            credentialCache: {
              ttlMs: config.apiKeyCacheTtlMs,
              maxEntries: config.apiKeyCacheMax,
            },
          }
        : {}),
    }),
  )
  if (config.webhookAllowPrivate) {
    log.warn(
      "TXN_WEBHOOK_ALLOW_PRIVATE=true: webhooks may target loopback and private addresses; for development only",
    )
  }
  if (config.migrateOnStart) await runtime.runPromise(migrate.pipe(Effect.orDie))

  const close = async () => {
    await holds.close()
    await queues.close()
    await runtime.dispose()
    await database.stop()
  }
  return { config, log, database, queues, holds, runtime, close }
}

/**
 * Runs `drain` once on the first SIGTERM or SIGINT, logs around it and exits 0; a second signal
 * while draining changes nothing.
 */
export const onShutdown = (
  log: Log,
  messages: { readonly stopping: string; readonly stopped: string },
  drain: () => Promise<void>,
) => {
  let stopping = false
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, messages.stopping)
    await drain()
    log.info(messages.stopped)
    process.exit(0)
  }
  process.once("SIGTERM", () => void shutdown("SIGTERM"))
  process.once("SIGINT", () => void shutdown("SIGINT"))
}
