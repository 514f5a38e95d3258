import { randomBytes } from "node:crypto"
import { type Account, type Export, type ExportId, Exports, Transactions } from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import {
  BullHoldScheduler,
  JobNames,
  type JobQueue,
  makeQueueBackend,
  type QueueBackend,
  Queues,
} from "@txn/queue"
import { eventually, finishedJob, inspect, queueBackends, uniquePrefix } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as Redacted from "effect/Redacted"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { consume } from "../src/consume.ts"
import { buildExport } from "../src/jobs/buildExport.ts"
import { type Background, startBackground } from "./background.ts"
import { createAccount, createPrivateDatabase, LogCapture } from "./fixtures.ts"

const backends = queueBackends()

/** The worker's runtime, as main.ts builds it. */
const makeRuntime = (
  databaseUrl: Redacted.Redacted<string>,
  holds: JobQueue<"holds">,
  logs: LogCapture,
) =>
  ManagedRuntime.make(
    makeAppLayer({
      databaseUrl,
      databasePoolMax: 5,
      holdScheduler: BullHoldScheduler.layer(holds),
      log: makeLog({ name: "worker", level: "info", destination: logs }),
    }),
  )

describe.each(backends)("the exports queue with $name", ({ redisUrl, skipped }) => {
  let database: Awaited<ReturnType<typeof createPrivateDatabase>>
  let logs: LogCapture
  let queues: QueueBackend
  let holds: JobQueue<"holds">
  let producer: JobQueue<"exports">
  let runtime: ReturnType<typeof makeRuntime>
  let worker: Awaited<ReturnType<typeof consume>>
  let account: Account
  const prefix = uniquePrefix("exports")

  beforeAll(async () => {
    if (skipped) return
    database = await createPrivateDatabase("exports")
    logs = new LogCapture()
    queues = makeQueueBackend({ redisUrl, databaseUrl: database.url, prefix })
    holds = queues.queue(Queues.holds)
    producer = queues.queue(Queues.exports)
    runtime = makeRuntime(database.url, holds, logs)
    account = await runtime.runPromise(createAccount)
    for (let i = 0; i < 25; i++) {
      await runtime.runPromise(
        Transactions.use((transactions) =>
          transactions.create(account.userId, {
            accountId: account.id,
            direction: i % 2 === 0 ? "credit" : "debit",
            amount: 100 + i,
            currency: account.currency,
            description: `Row ${i}`,
          }),
        ),
      )
    }
    worker = await consume({
      queues,
      queue: Queues.exports,
      processors: { [JobNames.buildExport]: buildExport(runtime) },
      log: makeLog({ name: "worker", level: "info", destination: logs }),
      settings: { concurrency: 2 },
    })
  })

  afterAll(async () => {
    if (skipped) return
    await worker.close()
    await inspect(producer).obliterate({ force: true })
    await producer.close()
    await holds.close()
    await queues.close()
    await runtime.dispose()
    await database.drop()
  })

  const createExport = (filters: Record<string, unknown> = {}) =>
    runtime.runPromise(Exports.use((exports) => exports.create(account.userId, filters)))

  const getExport = (id: string) =>
    runtime.runPromise(
      Exports.use((exports) => exports.get(account.userId, { id: id as ExportId })),
    )

  const finished = (jobId: string) => finishedJob(producer, jobId)

  it.skipIf(skipped)(
    "builds the export whose job is enqueued with the export's id, and completes it",
    async () => {
      const created = await createExport({ direction: "credit" })
      await producer.add(JobNames.buildExport, { exportId: created.id }, { jobId: created.id })

      const { job, state } = await finished(created.id)
      expect(state).toBe("completed")
      expect(job.returnvalue).toEqual({ exportId: created.id, outcome: "Completed" })
      const completed: Export = await getExport(created.id)
      expect(completed).toMatchObject({
        status: "completed",
        totalRows: 13,
        rowsWritten: 13,
        progress: 1,
        downloadUrl: `/v1/exports/${created.id}/download`,
      })
      const [file] = await runtime.runPromise(
        SqlClient.SqlClient.use(
          (sql) => sql<{ readonly text: string }>`
            select convert_from(string_agg(data, ''::bytea order by seq), 'UTF8') as text
              from export_chunks where export_id = ${created.id}`,
        ),
      )
      const lines = file!.text.trimEnd().split("\n")
      expect(lines).toHaveLength(14)
      expect(lines.slice(1).every((line) => line.includes(",credit,"))).toBe(true)
    },
  )

  it.skipIf(skipped)("fails a malformed build-export job once without retrying it", async () => {
    const jobId = `malformed-${randomBytes(4).toString("hex")}`
    await producer.add(
      JobNames.buildExport,
      { exportId: "exp_not-an-id" },
      { jobId, attempts: 5, backoff: { type: "fixed", delay: 100 } },
    )
    const { job, state } = await finished(jobId)
    expect(state).toBe("failed")
    expect(job.attemptsMade).toBe(1)
    expect(job.failedReason).toContain("Malformed build-export payload")
  })

  it.skipIf(skipped)(
    "retries a build that keeps failing, then marks the export failed after the last attempt",
    async () => {
      const created = await createExport()
      // Every chunk of this export fails to commit, as if the database refused it each time.
      const trigger = `fail_${created.id}`
      await runtime.runPromise(
        SqlClient.SqlClient.use((sql) =>
          Effect.gen(function* () {
            yield* sql.unsafe(`
              create function ${trigger}() returns trigger language plpgsql as $$
              begin raise exception 'disk full'; end $$`)
            yield* sql.unsafe(`
              create trigger ${trigger} before insert on export_chunks for each row
                when (new.export_id = '${created.id}') execute function ${trigger}()`)
          }),
        ),
      )
      await producer.add(
        JobNames.buildExport,
        { exportId: created.id },
        { jobId: created.id, attempts: 3, backoff: { type: "fixed", delay: 100 } },
      )
      const { job, state } = await finished(created.id)
      expect(state).toBe("failed")
      expect(job.attemptsMade).toBe(3)
      const failed = await getExport(created.id)
      expect(failed).toMatchObject({
        status: "failed",
        error: "The export could not be built after 3 attempts; create a new one",
        downloadUrl: null,
      })
      // What went wrong reaches the log, not the user.
      expect(failed.error).not.toContain("disk full")
      expect(
        logs.lines.some(
          (line) => line.msg === "job failed" && line.jobId === created.id && line.attempts === 3,
        ),
      ).toBe(true)
      expect(
        logs.lines.filter(
          (line) =>
            String(line.msg).includes("Export build failed") &&
            JSON.stringify(line).includes(created.id) &&
            JSON.stringify(line).includes("disk full"),
        ),
      ).toHaveLength(3)
    },
  )
})

describe.each(backends)("the worker process with $name", ({ redisUrl, skipped }) => {
  let background: Background

  beforeAll(async () => {
    if (skipped) return
    background = await startBackground({ redisUrl, label: "export_pipeline" })
  })

  afterAll(async () => {
    if (skipped) return
    await background.close()
  })

  it.skipIf(skipped)(
    "builds an export once it is created: the export.created event becomes the build job, export.completed follows",
    async () => {
      const { runtime, userId } = background
      const account = await background.openAccount()
      for (const amount of [100, 200, 300]) {
        await runtime.runPromise(
          Transactions.use((transactions) =>
            transactions.create(userId, background.transaction(account, { amount })),
          ),
        )
      }
      const created = await runtime.runPromise(
        Exports.use((exports) => exports.create(userId, { accountId: account.id })),
      )
      const completed = await eventually(
        async () => {
          const current = await runtime.runPromise(
            Exports.use((exports) => exports.get(userId, { id: created.id })),
          )
          return current.status === "completed" ? current : undefined
        },
        { what: `export ${created.id} to complete` },
      )
      expect(completed).toMatchObject({ totalRows: 3, rowsWritten: 3, progress: 1 })
      const events = await background.query<{ type: string; data: { export: Export } }>(
        "select type, data from outbox where type like 'export.%' and data->'export'->>'id' = $1 order by seq",
        created.id,
      )
      expect(events).toEqual([
        { type: "export.created", data: { export: created } },
        { type: "export.completed", data: { export: completed } },
      ])
    },
  )
})
