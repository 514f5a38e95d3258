import { runWorker } from "../src/runWorker.ts"

// The worker process exactly as main.ts runs it, with the test's shorter timings.
await runWorker(JSON.parse(process.env.TXN_TEST_WORKER_SETTINGS ?? "{}"))
