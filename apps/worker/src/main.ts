import { loadConfigOrExit } from "@txn/config"
import { connectDatabase, migrate } from "@txn/db"
import { makeAppLayer, makeLog } from "@txn/platform"
import { BullHoldScheduler, makeQueueBackend, Queues } from "@txn/queue"
import { Effect, ManagedRuntime } from "effect"
import { startHoldsWorker } from "./HoldsWorker.ts"

const config = loadConfigOrExit()
const log = makeLog({ name: "worker", level: config.logLevel })
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
if (process.env.NODE_ENV !== "production") await runtime.runPromise(migrate.pipe(Effect.orDie))

const holdsWorker = await startHoldsWorker({ queues, runtime, log })
log.info({ queueBackend: queues.kind, queues: [Queues.holds] }, "worker started")

let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  log.info({ signal }, "worker shutting down; finishing jobs in flight")
  await holdsWorker.close()
  await holds.close()
  await queues.close()
  await runtime.dispose()
  await database.stop()
  log.info("worker stopped")
  process.exit(0)
}
process.once("SIGTERM", () => void shutdown("SIGTERM"))
process.once("SIGINT", () => void shutdown("SIGINT"))
