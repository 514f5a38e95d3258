import { once } from "node:events"
import type { AddressInfo } from "node:net"
import { type UserId, UserRepository } from "@txn/domain"
import { onShutdown, startAppProcess } from "@txn/platform"
import { SqlClient } from "effect/sql"
import { createApiServer } from "./server.ts"

/** The user of every request until API keys exist; fixed so restarts keep its data. */
const devUserId = "usr_00000000000000000000000dev" as UserId

const app = await startAppProcess("api")
const { config, log, queues, holds, runtime } = app

await runtime.runPromise(
  UserRepository.use((users) =>
    users.ensure({ id: devUserId, name: "Development user", createdAt: new Date().toISOString() }),
  ),
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

onShutdown(log, { stopping: "api shutting down", stopped: "api stopped" }, async () => {
  // Finish the requests in flight, refuse new ones; give up on stragglers after 10 s.
  server.close()
  server.closeIdleConnections()
  const force = setTimeout(() => server.closeAllConnections(), 10_000).unref()
  await once(server, "close")
  clearTimeout(force)
  await app.close()
})
