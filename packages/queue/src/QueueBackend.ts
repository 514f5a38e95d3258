import {
  createPostgresBackend,
  type Job,
  type JobsOptions,
  Queue,
  type RepeatOptions,
  Worker,
  type WorkerOptions,
  withBackend,
} from "bullmq"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import type { JobData, JobName, QueueName } from "./Queues.ts"

/** One job of queue `Q` to add: a name of its contract (`Jobs`) with that job's payload. */
export type JobSpec<Q extends QueueName> = {
  readonly [N in JobName<Q>]: { name: N; data: JobData<Q, N>; opts?: JobsOptions }
}[JobName<Q>]

/** What the project asks of any queue, whatever its jobs: its name, counts, removal. */
export interface QueueHandle {
  readonly name: QueueName
  /** Removes a job unless it is running (locked); 1 when removed, 0 when not. */
  remove(jobId: string): Promise<number>
  getJobCounts(
    ...types: Array<"waiting" | "active" | "delayed" | "completed" | "failed">
  ): Promise<Record<string, number>>
  close(): Promise<void>
}

/**
 * The part of a BullMQ queue the project uses, the same on the Redis and PostgreSQL backends,
 * typed by the queue's contract: only its jobs, each with its payload.
 */
export interface JobQueue<Q extends QueueName> extends QueueHandle {
  readonly name: Q
  add<N extends JobName<Q>>(name: N, data: JobData<Q, N>, options?: JobsOptions): Promise<Job>
  addBulk(jobs: ReadonlyArray<JobSpec<Q>>): Promise<Array<Job>>
  upsertJobScheduler<N extends JobName<Q>>(
    id: string,
    repeat: Omit<RepeatOptions, "key">,
    template: { name: N; data: JobData<Q, N>; opts?: Omit<JobsOptions, "jobId" | "repeat"> },
  ): Promise<unknown>
}

export interface JobWorker {
  on(event: "completed", listener: (job: Job) => void): unknown
  on(event: "failed", listener: (job: Job | undefined, error: Error) => void): unknown
  on(event: "error", listener: (error: Error) => void): unknown
  waitUntilReady(): Promise<unknown>
  close(force?: boolean): Promise<void>
}

/**
 * Runs one job (its payload `P` once decoded by its queue's contract); `token` is the job's lock,
 * which moving it back to delayed needs.
 */
export type JobProcessor<P = unknown> = (job: Job<P>, token?: string) => Promise<unknown>

export type WorkerSettings = Omit<WorkerOptions, "connection">

export interface QueueBackend {
  readonly kind: "redis" | "postgres"
  readonly queue: <Q extends QueueName>(name: Q) => JobQueue<Q>
  readonly worker: (
    name: QueueName,
    processor: JobProcessor,
    settings?: WorkerSettings,
  ) => JobWorker
  /** Closes the connections the backend opened itself; queues and workers are closed by their owners. */
  readonly close: () => Promise<void>
}

export interface QueueBackendOptions {
  /** BullMQ on Redis when set; otherwise BullMQ's PostgreSQL backend on `databaseUrl`. */
  readonly redisUrl: Redacted.Redacted<string> | undefined
  readonly databaseUrl: Redacted.Redacted<string>
  /** Prefix of every queue key or row, so tests can share one server without meeting. */
  readonly prefix?: string
}

const redisBackend = (url: string, prefix: string): QueueBackend => {
  const connections: Array<Redis> = []
  // BullMQ's blocking commands need `maxRetriesPerRequest: null`; each user gets its own socket.
  const connect = () => {
    const connection = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false })
    connections.push(connection)
    return connection
  }
  return {
    kind: "redis",
    queue: <Q extends QueueName>(name: Q) =>
      new Queue(name, { connection: connect(), prefix }) as unknown as JobQueue<Q>,
    worker: (name, processor, settings) =>
      new Worker(name, processor, { ...settings, connection: connect(), prefix }),
    close: async () => {
      await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)))
    },
  }
}

/**
 * BullMQ's PostgreSQL backend ignores `prefix` and puts every queue in one schema, so the prefix
 * becomes the schema name (a simple identifier there).
 */
const postgresSchema = (prefix: string) => prefix.replace(/[^A-Za-z0-9_]/g, "_")

const postgresBackend = (url: string, prefix: string): QueueBackend => {
  const Postgres = withBackend(createPostgresBackend)
  const connection = {
    connectionString: url,
    max: 5,
    migrate: true,
    schema: postgresSchema(prefix),
  }
  return {
    kind: "postgres",
    queue: <Q extends QueueName>(name: Q) =>
      new Postgres.Queue(name, { connection, prefix }) as unknown as JobQueue<Q>,
    worker: (name, processor, settings) =>
      new Postgres.Worker(name, processor, {
        ...settings,
        connection,
        prefix,
      }) as unknown as JobWorker,
    close: async () => {},
  }
}

export const makeQueueBackend = (options: QueueBackendOptions): QueueBackend => {
  const prefix = options.prefix ?? "txn"
  return options.redisUrl === undefined
    ? postgresBackend(Redacted.value(options.databaseUrl), prefix)
    : redisBackend(Redacted.value(options.redisUrl), prefix)
}
