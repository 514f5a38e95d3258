import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { createServer } from "node:net"
import { Writable } from "node:stream"
import type { Queue } from "bullmq"
import * as Redacted from "effect/Redacted"

/**
 * The database `npm test` created for this run (fresh, migrated). Tests that need PostgreSQL get it
 * from here; running vitest directly without `npm test` fails loudly instead of touching other data.
 */
export const testDatabaseUrl = (): Redacted.Redacted<string> => {
  const url = process.env.DATABASE_URL
  if (url === undefined || url === "") {
    throw new Error(
      "DATABASE_URL is not set: run the tests with `npm test` from the repository root",
    )
  }
  return Redacted.make(url)
}

/**
 * PostgreSQL itself when the run's DATABASE_URL is a pooler in transaction mode (the PgBouncer
 * run of `npm run test:pgbouncer`); undefined otherwise.
 */
export const testDirectDatabaseUrl = (): Redacted.Redacted<string> | undefined => {
  const url = process.env.DATABASE_DIRECT_URL
  return url === undefined || url === "" ? undefined : Redacted.make(url)
}

/**
 * What a process the tests spawn needs to reach the run's database, and nothing else of theirs:
 * PATH, DATABASE_URL and (behind PgBouncer) DATABASE_DIRECT_URL.
 */
export const testProcessEnv = (): Record<string, string> => {
  const direct = testDirectDatabaseUrl()
  return {
    PATH: process.env.PATH ?? "",
    DATABASE_URL: Redacted.value(testDatabaseUrl()),
    ...(direct === undefined ? {} : { DATABASE_DIRECT_URL: Redacted.value(direct) }),
  }
}

/** The Redis of this run, if any; Redis-backed tests are skipped (and say so) without one. */
export const testRedisUrl = (): Redacted.Redacted<string> | undefined => {
  const url = process.env.REDIS_URL
  return url === undefined || url === "" ? undefined : Redacted.make(url)
}

/** A prefix no other test or run shares, for queue names and other global keys. */
export const uniquePrefix = (label: string) => `test-${label}-${randomBytes(6).toString("hex")}`

/** Polls until `check` returns a value other than undefined; fails after `timeoutMs`. */
export const eventually = async <A>(
  check: () => Promise<A | undefined>,
  { timeoutMs = 20_000, intervalMs = 100, what = "condition" } = {},
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Every JSON line a logger wrote, raw and parsed, to check what reaches the logs. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = []
  readonly raw: Array<string> = []
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
      this.raw.push(line)
      this.lines.push(JSON.parse(line))
    }
    done()
  }
}

export interface QueueBackendCase {
  readonly name: string
  readonly redisUrl: Redacted.Redacted<string> | undefined
  /** Why the suite is skipped on this machine, if it is. */
  readonly skipped: string | undefined
}

/** BullMQ on PostgreSQL always; on Redis only when the run has one, and the name says so when not. */
export const queueBackends = (): ReadonlyArray<QueueBackendCase> => {
  const redisUrl = testRedisUrl()
  if (redisUrl === undefined) {
    console.warn("REDIS_URL is not set: the Redis backend suites are skipped; PostgreSQL ones run.")
  }
  return [
    { name: "BullMQ on PostgreSQL", redisUrl: undefined, skipped: undefined },
    {
      name:
        redisUrl === undefined
          ? "BullMQ on Redis (skipped: REDIS_URL is not set)"
          : "BullMQ on Redis",
      redisUrl,
      skipped: redisUrl === undefined ? "REDIS_URL is not set" : undefined,
    },
  ]
}

/**
 * The BullMQ Queue behind a queue handle: both backends hand out BullMQ Queue instances, and
 * tests read more of them than the port exposes.
 */
export const inspect = (queue: object) => queue as Queue

/** The job once it has completed or failed for good (a retry in between is neither), and which. */
export const finishedJob = async (queue: object, jobId: string, timeoutMs = 20_000) => {
  await eventually(
    async () => {
      const state = await (await inspect(queue).getJob(jobId))?.getState()
      return state === "completed" || state === "failed" ? state : undefined
    },
    { timeoutMs, what: `job ${jobId} to finish` },
  )
  const job = (await inspect(queue).getJob(jobId))!
  return { job, state: await job.getState() }
}

/** A TCP port nothing listens on right now, for a server a test starts itself. */
export const freePort = async () => {
  const probe = createServer().listen(0, "127.0.0.1")
  await once(probe, "listening")
  const { port } = probe.address() as { port: number }
  probe.close()
  await once(probe, "close")
  return port
}

export * from "./builders.ts"
export * from "./CountingProxy.ts"
export * from "./StallingProxy.ts"

/**
 * Runs `script` with this Node and `args` to its end, killed after `timeoutMs`; what it printed
 * and its exit code (null when killed).
 */
export const runNode = async (
  script: string,
  args: ReadonlyArray<string>,
  options: {
    readonly cwd?: string
    readonly env?: NodeJS.ProcessEnv
    readonly timeoutMs?: number
  } = {},
) => {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const killer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000)
  const [code] = (await once(child, "close")) as [number | null]
  clearTimeout(killer)
  return { code, stdout, stderr }
}
