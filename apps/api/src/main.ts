import { once } from "node:events"
import type { AddressInfo } from "node:net"
import { databaseApplicationName, onShutdown, startAppProcess } from "@txn/platform"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { builtDashboardDir } from "./dashboard.ts"
import { makeLiveFeed } from "./liveFeed.ts"
import { databaseConnectionsOf } from "./metrics.ts"
import { makeRateLimit } from "./rateLimit.ts"
import { makeReadinessCheck } from "./readiness.ts"
import { createApiServer } from "./server.ts"

const app = await startAppProcess("api")
const { config, log, queues, holds, runtime } = app

// Rate limits are shared by every replica through Redis when there is one. The counts of the
// requests that arrive together go to Redis in one write (auto-pipelining), not one each.
const redis =
  config.redisUrl === undefined
    ? undefined
    : new Redis(Redacted.value(config.redisUrl), {
        enableOfflineQueue: false,
        lazyConnect: false,
        enableAutoPipelining: true,
      })
redis?.on("error", (error) => log.warn({ error: error.message }, "rate limit store unreachable"))

// Live changes are read from the database's change feed, for every subscriber at once, so a write
// through any process reaches subscribers on every process. With Redis, each process also tells
// the others when it has written, so their subscribers hear of it at once, not at the next poll.
const liveChannel = `${config.queuePrefix}:live`
const liveListener = redis?.duplicate({ enableOfflineQueue: true })
liveListener?.on("error", (error) => log.warn({ error: error.message }, "live channel unreachable"))
const live = makeLiveFeed(runtime, log, {
  pollMs: config.livePollMs,
  maxQueued: 1_000,
  maxSubscribers: config.liveMaxSubscribers,
  readTimeoutMs: config.requestTimeoutMs,
  announce:
    redis === undefined
      ? undefined
      : () => {
          redis.publish(liveChannel, "").catch(() => {
            // Unreachable for now: the other processes' polls still find the change.
          })
        },
})
liveListener?.on("message", () => live.heard())
// Not awaited: the API starts whether Redis answers or not (ioredis subscribes once it does,
// and again after each reconnection).
liveListener
  ?.subscribe(liveChannel)
  .catch((error: Error) => log.warn({ error: error.message }, "live channel unreachable"))
const server = createApiServer(
  {
    runtime,
    log,
    adminToken: config.adminToken,
    rateLimit: makeRateLimit({ points: config.rateLimitPerMinute, redis }),
    requestTimeoutMs: config.requestTimeoutMs,
    live,
  },
  {
    maxBodyBytes: 1024 * 1024,
    maxBatchCalls: config.maxBatchCalls,
    requestTimeoutMs: config.requestTimeoutMs,
    checkReadiness: makeReadinessCheck({ runtime, queue: holds }),
    corsOrigins: config.corsOrigins,
    trustedProxies: config.trustedProxies,
    databaseConnections: databaseConnectionsOf(runtime, databaseApplicationName("api")),
    dashboardDir: builtDashboardDir,
  },
)
const listening = await new Promise<boolean>((resolve, reject) => {
  server.once("listening", () => resolve(true))
  server.once("error", (error: NodeJS.ErrnoException) =>
    error.code === "EADDRINUSE" ? resolve(false) : reject(error),
  )
  server.listen(config.port, config.host)
})
if (!listening) {
  log.error({ host: config.host, port: config.port }, "api port in use")
  process.stderr.write(
    `Port ${config.port} on ${config.host} is already in use (is another npm start running?). ` +
      `Set PORT to a free port, e.g. PORT=${config.port + 1}.\n`,
  )
  redis?.disconnect()
  liveListener?.disconnect()
  await app.close()
  process.exit(1)
}
// Before the line that says it listens: a SIGTERM sent on reading that line must find the
// handler, or Node's default ends the process on the spot, with nothing closed.
onShutdown(log, { stopping: "api shutting down", stopped: "api stopped" }, async () => {
  // Finish the requests in flight, refuse new ones; give up on stragglers after 10 s. Live
  // streams end at once, telling their clients to resume elsewhere.
  live.close()
  server.close()
  server.closeIdleConnections()
  const force = setTimeout(() => server.closeAllConnections(), 10_000).unref()
  await once(server, "close")
  clearTimeout(force)
  redis?.disconnect()
  liveListener?.disconnect()
  await app.close()
})

const { port } = server.address() as AddressInfo
log.info(
  {
    url: `http://${config.host}:${port}`,
    queueBackend: queues.kind,
  },
  "api listening",
)
