import { onShutdown, startAppProcess } from "@txn/platform"
import { Queues } from "@txn/queue"
import { startHoldsWorker } from "./HoldsWorker.ts"

const app = await startAppProcess("worker")
const { log, queues, runtime } = app

const holdsWorker = await startHoldsWorker({ queues, runtime, log })
log.info({ queueBackend: queues.kind, queues: [Queues.holds] }, "worker started")

onShutdown(
  log,
  { stopping: "worker shutting down; finishing jobs in flight", stopped: "worker stopped" },
  async () => {
    await holdsWorker.close()
    await app.close()
  },
)
