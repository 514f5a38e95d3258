import { once } from "node:events"
import type { AddressInfo } from "node:net"
import { loadConfigOrExit } from "@txn/config"
import { connectDatabase, migrate } from "@txn/db"
import { type UserId, UserRepository } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import { BullHoldScheduler, makeQueueBackend, Queues } from "@txn/queue"
import { Effect, ManagedRuntime } from "effect"
import { SqlClient } from "effect/sql"
import { createApiServer } from "./server.ts"

/** The user of every request until API keys exist; fixed so restarts keep its data. */
const devUserId = "usr_00000000000000000000000dev" as UserId

const config = loadConfigOrExit()
const log = makeLog({ name: "api", level: config.logLevel })
const database = await connectDatabase(config)
const queues = makeQueueBackend({ redisUrl: config.redisUrl, databaseUrl: database.url })
const holds = queues.queue(Queues.holds)
const runtime = ManagedRuntime.make(
  makeAppLayer({
    databaseUrl: database.url,
    databasePoolMax: config.databasePoolMax,
    holdScheduler: BullHoldScheduler.layer(holds),
    log,
  }),
)

await runtime.runPromise(
  Effect.gen(function* () {
    if (process.env.NODE_ENV !== "production") yield* migrate
    const users = yield* UserRepository
    yield* users.ensure({
      id: devUserId,
      name: "Development user",
      createdAt: new Date().toISOString(),
    })
  }),
)

const withTimeout = <A>(promise: Promise<A>, ms: number, what: string) =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref(),
    ),
  ])

const server = createApiServer(
  { runtime, log, devUserId },
  {
    maxBodyBytes: 1024 * 1024,
    requestTimeoutMs: config.requestTimeoutMs,
    checkReadiness: async () => {
      await Promise.all([
        withTimeout(
          runtime.runPromise(SqlClient.SqlClient.use((sql) => sql`select 1`)),
          2000,
          "database",
        ),
        withTimeout(holds.getJobCounts("waiting"), 2000, "queue"),
      ])
    },
  },
)
server.listen(config.port, config.host)
await once(server, "listening")
const { port } = server.address() as AddressInfo
log.info(
  {
    url: `http://${config.host}:${port}`,
    queueBackend: queues.kind,
  },
  "api listening",
)

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  log.info({ signal }, "api shutting down")
  // Finish the requests in flight, refuse new ones; give up on stragglers after 10 s.
  server.close()
  server.closeIdleConnections()
  const force = setTimeout(() => server.closeAllConnections(), 10_000).unref()
  await once(server, "close")
  clearTimeout(force)
  await holds.close()
  await queues.close()
  await runtime.dispose()
  await database.stop()
  log.info("api stopped")
  process.exit(0)
}
process.once("SIGTERM", () => void shutdown("SIGTERM"))
process.once("SIGINT", () => void shutdown("SIGINT"))
