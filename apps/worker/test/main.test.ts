import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { type Account, type TransactionId, TransactionRepository } from "@txn/domain"
import { eventually, freePort } from "@txn/testing"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import {
  createAccount,
  createPrivateDatabase,
  insertTransaction,
  makeRepositoryRuntime,
  secondsFromNow,
} from "./fixtures.ts"
import { spawnWorkerProcess } from "./workerProcessRunner.ts"

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))

// main.ts has no prefix setting; on a database of its own the default prefix meets no other test.
// One per test: a restarted worker keeps the sweep schedule it finds, so only a fresh one sweeps
// at start.
let database: Awaited<ReturnType<typeof createPrivateDatabase>>
let repositories: ReturnType<typeof makeRepositoryRuntime>
let account: Account
let child: ChildProcess | undefined
beforeEach(async () => {
  database = await createPrivateDatabase("process")
  repositories = makeRepositoryRuntime(database.url)
  account = await repositories.runPromise(createAccount)
})
afterEach(async () => {
  child?.kill("SIGKILL")
  await repositories.dispose()
  await database.drop()
})

/** Starts `src/main.ts` on the PostgreSQL queue backend and collects its JSON log lines. */
const startWorkerProcess = (env: Record<string, string> = {}) => {
  const worker = spawnWorkerProcess(main, { DATABASE_URL: Redacted.value(database.url), ...env })
  child = worker.proc
  return worker
}

const statusOf = async (id: TransactionId) =>
  Option.getOrThrow(
    await repositories.runPromise(
      TransactionRepository.use((transactions) => transactions.findById(account.userId, id)),
    ),
  ).status

describe("the worker process", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "starts on the PostgreSQL queue backend, voids an overdue hold, and exits 0 on %s",
    async (signal) => {
      const overdue = await repositories.runPromise(
        insertTransaction(account, { expiresAt: secondsFromNow(-60) }),
      )
      const worker = startWorkerProcess()
      expect(await worker.waitFor("worker started")).toMatchObject({
        level: "info",
        service: "worker",
        queueBackend: "postgres",
        queues: ["holds", "events", "webhooks", "exports", "maintenance"],
      })
      // The runner turns private webhook targets on for the tests' receivers; the process warns.
      expect(worker.lines.find((line) => line.level === "warn")?.msg).toContain(
        "TXN_WEBHOOK_ALLOW_PRIVATE=true",
      )
      await eventually(async () => ((await statusOf(overdue.id)) === "voided" ? true : undefined), {
        what: "the process's start-up sweep to void the overdue hold",
      })

      worker.proc.kill(signal)
      const [code] = await once(worker.proc, "exit")
      expect(code).toBe(0)
      const messages = worker.lines.map((line) => line.msg)
      expect(messages).toContain("worker shutting down; finishing jobs in flight")
      expect(messages.at(-1)).toBe("worker stopped")
      expect(
        worker.lines.find((line) => line.msg === "worker shutting down; finishing jobs in flight"),
      ).toMatchObject({ signal })
    },
  )

  it("serves /metrics on TXN_WORKER_METRICS_PORT, and says where when it starts", async () => {
    const port = await freePort()
    const worker = startWorkerProcess({ TXN_WORKER_METRICS_PORT: String(port) })
    expect(await worker.waitFor("worker started")).toMatchObject({
      metrics: `http://127.0.0.1:${port}/metrics`,
    })
    const response = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(response.status).toBe(200)
    const text = await response.text()
    expect(text).toMatch(/^txn_queue_jobs\{queue="holds",state="waiting"\} \d+$/m)
    expect(text).toContain("# TYPE txn_jobs_total counter")
    worker.proc.kill("SIGTERM")
    const [code] = await once(worker.proc, "exit")
    expect(code).toBe(0)
  })
})
