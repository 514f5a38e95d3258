/**
 * `npm run bench -- worker`: whether the worker keeps up.
 *
 * Trivial jobs: one queue of no-op jobs on REDIS_URL's Redis drained by the worker's own consumer
 * (`consume`, the events queue's concurrency, each job's payload decoded and its work run on the
 * worker's Effect runtime, as the real jobs do), and the same number by a raw BullMQ Worker of the
 * same concurrency, the two taking turns round by round. Prints jobs/s and their ratio.
 *
 * End to end, on the Redis backend and then on the PostgreSQL queue backend: a fresh, migrated
 * database, the API and the worker as `npm start` runs them (the worker allowed to reach
 * loopback with TXN_WEBHOOK_ALLOW_PRIVATE, its queues under a prefix of their own), and one
 * webhook subscribed to `transaction.created` pointing at a receiver on 127.0.0.1 in this process
 * that answers 204. Single creates from 20 connections for `seconds`, then createMany batches of
 * 100 from 2 connections for as long; after each load the events still on their way are waited
 * for (at most `drainMs`). Prints the create rate, the events delivered per second (from the
 * load's start to the last arrival), the lag from each transaction's `createdAt` to its event's
 * arrival (p50, p99, max) and from the API's answer, its commit, to the arrival (p50, p99: the
 * worker's part of the lag, without the create's own time in the API), what never arrived, the connections the worker opened to the receiver
 * and the worker's CPU time per event (Linux).
 * Bounded: every load stops after `seconds` or its count, every drain after `drainMs`.
 */
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { createServer, Agent as HttpAgent, type IncomingMessage, request } from "node:http"
import { makeAppLayer, makeLog } from "@txn/platform"
import { BullHoldScheduler, JobNames, type JobWorker, makeQueueBackend, Queues } from "@txn/queue"
import { Queue, Worker } from "bullmq"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { Redis } from "ioredis"
import { consume } from "../../apps/worker/src/consume.ts"
import {
  type BenchDatabase,
  benchUser,
  cpuMsOf,
  openBenchDatabase,
  percentile,
  type Server,
  sleep,
  startApi,
  startWorker,
  type WorkerProcess,
} from "./harness.ts"

export interface WorkerBenchOptions {
  /** Rounds of the trivial jobs, each system once per round. */
  readonly rounds: number
  /** Seconds of each end-to-end load. */
  readonly seconds: number
}

const trivialJobs = 20_000
/** The events queue's, as startWorkers sets it. */
const trivialConcurrency = 20
const singleClients = 20
const batchClients = 2
const batchSize = 100
const maxCreates = 200_000
const drainMs = 60_000
const accountCount = 100

const integer = (value: number) => Math.round(value).toLocaleString("en-US")
const fixed = (value: number | undefined, digits: number) =>
  value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits)

/** A markdown table, as the throughput scenario prints them: first column left, the rest right. */
const printTable = (rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((cells) => cells[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`
  console.log(line(rows[0]!))
  console.log(
    `| ${widths.map((width, i) => (i === 0 ? "-".repeat(width) : `${"-".repeat(width - 1)}:`)).join(" | ")} |`,
  )
  for (const cells of rows.slice(1)) console.log(line(cells))
}

const range = (values: ReadonlyArray<number>, digits: number) => {
  if (values.length === 0) return "—"
  const low = Math.min(...values)
  const high = Math.max(...values)
  const show = (value: number) =>
    digits === 0 ? integer(value) : value.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  return low === high ? show(low) : `${show(low)}–${show(high)}`
}

const uniquePrefix = (label: string) => `bench_${label}_${randomBytes(4).toString("hex")}`

/** Fills `queue` with `count` jobs named `name`, the payload a dispatch job's. */
const fill = async (queue: Queue, name: string, count: number) => {
  for (let added = 0; added < count; added += 1_000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1_000, count - added) }, () => ({
        name,
        data: { eventId: `evt_${randomBytes(13).toString("hex")}` },
        // The retention the worker's own jobs have.
        opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } },
      })),
    )
  }
}

/**
 * Jobs/s over the jobs after the first (the first waits for the worker to connect), and this
 * process's CPU time per job over the same span (steadier than jobs/s on a busy machine): `start`
 * gets the function each job calls once it is done, and returns the worker to close.
 */
const drain = async (start: (done: () => void) => Promise<{ close(): Promise<void> }>) => {
  let count = 0
  let first = 0
  let last = 0
  let cpuFirst = process.cpuUsage()
  let cpuLast = cpuFirst
  let finish: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })
  const worker = await start(() => {
    count++
    if (count === 1) {
      first = performance.now()
      cpuFirst = process.cpuUsage()
    }
    if (count === trivialJobs) {
      last = performance.now()
      cpuLast = process.cpuUsage(cpuFirst)
      finish()
    }
  })
  await Promise.race([finished, sleep(120_000)])
  await worker.close()
  if (count < trivialJobs) throw new Error(`only ${count} of ${trivialJobs} trivial jobs ran`)
  return {
    rate: ((trivialJobs - 1) * 1000) / (last - first),
    cpuUs: (cpuLast.user + cpuLast.system) / (trivialJobs - 1),
  }
}

const trivialJobsBench = async (database: BenchDatabase, redisUrl: string, rounds: number) => {
  const prefix = uniquePrefix("jobs")
  const log = makeLog({ name: "worker", level: "info" })
  const queues = makeQueueBackend({
    redisUrl: Redacted.make(redisUrl),
    databaseUrl: Redacted.make(database.url),
    prefix,
  })
  const holds = queues.queue(Queues.holds)
  const runtime = ManagedRuntime.make(
    makeAppLayer({
      databaseUrl: Redacted.make(database.url),
      databasePoolMax: 10,
      holdScheduler: BullHoldScheduler.layer(holds),
      log,
    }),
  )
  const connections: Array<Redis> = []
  const connect = () => {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null })
    connections.push(connection)
    return connection
  }
  // The events queue of a prefix of its own: nothing but these jobs is on it.
  const producer = new Queue(Queues.events, { connection: connect(), prefix })
  type Round = Awaited<ReturnType<typeof drain>>
  const figures = { worker: [] as Array<Round>, raw: [] as Array<Round> }
  try {
    await runtime.runPromise(Effect.void)
    const project = () =>
      drain(async (done) => {
        const worker: JobWorker = await consume({
          queues,
          queue: Queues.events,
          processors: {
            // Its payload decoded by the contract, then a trip through the runtime: no work.
            [JobNames.dispatchEvent]: async (job) => {
              const result = await runtime.runPromise(Effect.succeed({ eventId: job.data.eventId }))
              done()
              return result
            },
            [JobNames.dispatchEvents]: async () => {
              throw new Error("not part of this bench")
            },
          },
          log,
          settings: { concurrency: trivialConcurrency },
        })
        return worker
      })
    const raw = () =>
      drain(async (done) => {
        const worker = new Worker(
          Queues.events,
          async (job) => {
            done()
            return job.data
          },
          { connection: connect(), prefix, concurrency: trivialConcurrency },
        )
        await worker.waitUntilReady()
        return worker
      })
    // Warm-up, once each, uncounted.
    for (const system of [project, raw]) {
      await fill(producer, JobNames.dispatchEvent, trivialJobs)
      await system()
    }
    for (let round = 0; round < rounds; round++) {
      await fill(producer, JobNames.dispatchEvent, trivialJobs)
      figures.worker.push(await project())
      await fill(producer, JobNames.dispatchEvent, trivialJobs)
      figures.raw.push(await raw())
    }
  } finally {
    await producer.obliterate({ force: true }).catch(() => undefined)
    await producer.close()
    await holds.close()
    await queues.close()
    await runtime.dispose()
    await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)))
  }
  console.log(
    `\nTrivial jobs: ${integer(trivialJobs)} no-op jobs per system and round, concurrency ${trivialConcurrency}, ` +
      `on REDIS_URL's Redis, ${rounds} round(s), the systems taking turns\n`,
  )
  const ratios = (of: (round: Round) => number) =>
    range(
      figures.worker.map((round, i) => of(round) / of(figures.raw[i]!)),
      2,
    )
  printTable([
    ["system", "jobs/s", "CPU µs/job (this process)"],
    [
      "worker runtime (consume, decode, Effect runtime)",
      range(
        figures.worker.map((round) => round.rate),
        0,
      ),
      range(
        figures.worker.map((round) => round.cpuUs),
        1,
      ),
    ],
    [
      "raw BullMQ Worker",
      range(
        figures.raw.map((round) => round.rate),
        0,
      ),
      range(
        figures.raw.map((round) => round.cpuUs),
        1,
      ),
    ],
    ["worker / raw", ratios((round) => round.rate), ratios((round) => round.cpuUs)],
  ])
}

/** What the receiver saw: per event id, when it arrived and when its transaction was created. */
interface Arrival {
  readonly arrivedAt: number
  readonly createdAt: number
  readonly transactionId: string | undefined
}

const startReceiver = async () => {
  const arrivals = new Map<string, Arrival>()
  let duplicates = 0
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const arrivedAt = Date.now()
      res.writeHead(204).end()
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        id: string
        createdAt: string
        data: { transaction?: { id?: string; createdAt?: string } }
      }
      if (arrivals.has(body.id)) {
        duplicates++
        return
      }
      arrivals.set(body.id, {
        arrivedAt,
        createdAt: Date.parse(body.data.transaction?.createdAt ?? body.createdAt),
        transactionId: body.data.transaction?.id,
      })
    })
  })
  let connections = 0
  server.on("connection", () => {
    connections++
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("no receiver address")
  return {
    url: `http://127.0.0.1:${address.port}/hooks`,
    arrivals,
    duplicates: () => duplicates,
    /** Connections the worker opened to the receiver so far. */
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const post = (agent: HttpAgent, base: string, key: string, path: string, input: unknown) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const payload = JSON.stringify(input)
    const req = request(
      new URL(`/trpc/${path}`, base),
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        )
      },
    )
    req.on("error", reject)
    req.end(payload)
  })

const resultOf = <A>(response: { status: number; body: string }, what: string): A => {
  if (response.status !== 200)
    throw new Error(`${what} answered ${response.status}: ${response.body}`)
  return (JSON.parse(response.body) as { result: { data: A } }).result.data
}

interface LoadFigures {
  readonly label: string
  readonly created: number
  readonly createRate: number
  readonly deliveredRate: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** From the API's answer (the transaction committed) to the event's arrival. */
  readonly answeredP50: number
  readonly answeredP99: number
  readonly missing: number
  readonly connections: number
  readonly workerCpu: number | undefined
  readonly failures: Record<string, number>
}

const endToEnd = async (backend: "redis" | "postgres", seconds: number) => {
  const database = await openBenchDatabase()
  const receiver = await startReceiver()
  let api: Server | undefined
  let worker: WorkerProcess | undefined
  const agent = new HttpAgent({ keepAlive: true, maxSockets: singleClients })
  const figures: Array<LoadFigures> = []
  try {
    const key = (await benchUser(database)).secret
    const env = {
      // The API checks the webhook's URL when it is created, the worker when it connects.
      TXN_WEBHOOK_ALLOW_PRIVATE: "true",
      TXN_RATE_LIMIT_PER_MINUTE: "100000000",
      TXN_QUEUE_PREFIX: uniquePrefix(backend),
      // Empty: BullMQ's PostgreSQL backend on the bench database.
      REDIS_URL: backend === "redis" ? (process.env.REDIS_URL ?? "") : "",
    }
    api = await startApi(database, env)
    const nodeOptions = process.env.TXN_BENCH_WORKER_NODE_OPTIONS
    worker = await startWorker(
      database,
      env,
      nodeOptions === undefined ? [] : nodeOptions.split(" ").filter(Boolean),
    )
    const base = api.base
    const accounts: Array<string> = []
    for (let i = 0; i < accountCount; i++) {
      const account = resultOf<{ id: string }>(
        await post(agent, base, key, "accounts.create", {
          name: `Bench ${i}`,
          currency: "USD",
          allowNegative: true,
        }),
        "accounts.create",
      )
      accounts.push(account.id)
    }
    resultOf(
      await post(agent, base, key, "webhooks.create", {
        url: receiver.url,
        eventTypes: ["transaction.created"],
      }),
      "webhooks.create",
    )
    const transaction = (i: number) => ({
      accountId: accounts[i % accounts.length],
      direction: "credit",
      amount: 1 + (i % 5_000),
      currency: "USD",
      description: `Bench ${i}`,
    })
    let seq = 0

    /** Runs `client` from `clients` connections for `seconds`; then waits for the events. */
    const load = async (
      label: string,
      clients: number,
      perCall: number,
      call: () => Promise<{ status: number; body: string }>,
    ) => {
      const answered = new Map<string, number>()
      const before = receiver.arrivals.size
      const connectionsBefore = receiver.connections()
      const failures: Record<string, number> = {}
      let created = 0
      const cpuBefore = await cpuMsOf(worker?.process.pid)
      const startedAt = Date.now()
      const started = performance.now()
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() - started < seconds * 1000 && created < maxCreates) {
            const { status, body } = await call()
            const at = Date.now()
            for (const [, id] of body.matchAll(/"id":"(txn_[0-9a-z]+)"/g)) answered.set(id!, at)
            if (status === 200) created += perCall
            else failures[status] = (failures[status] ?? 0) + 1
          }
        }),
      )
      const loadMs = performance.now() - started
      const deadline = performance.now() + drainMs
      while (receiver.arrivals.size - before < created && performance.now() < deadline)
        await sleep(50)
      const cpuAfter = await cpuMsOf(worker?.process.pid)
      const arrivals = [...receiver.arrivals.values()].slice(before)
      const lags = arrivals.map((arrival) => arrival.arrivedAt - arrival.createdAt)
      lags.sort((a, b) => a - b)
      const sinceAnswer = arrivals.flatMap((arrival) => {
        const at =
          arrival.transactionId === undefined ? undefined : answered.get(arrival.transactionId)
        return at === undefined ? [] : [arrival.arrivedAt - at]
      })
      sinceAnswer.sort((a, b) => a - b)
      const lastArrival = Math.max(startedAt, ...arrivals.map((arrival) => arrival.arrivedAt))
      figures.push({
        label,
        created,
        createRate: (created * 1000) / loadMs,
        deliveredRate: (arrivals.length * 1000) / (lastArrival - startedAt),
        p50: percentile(lags, 50),
        p99: percentile(lags, 99),
        max: lags.at(-1) ?? 0,
        answeredP50: percentile(sinceAnswer, 50),
        answeredP99: percentile(sinceAnswer, 99),
        missing: created - arrivals.length,
        connections: receiver.connections() - connectionsBefore,
        workerCpu:
          cpuBefore === undefined || cpuAfter === undefined || arrivals.length === 0
            ? undefined
            : (cpuAfter - cpuBefore) / arrivals.length,
        failures,
      })
    }

    const single = () => post(agent, base, key, "transactions.create", transaction(seq++))
    const batch = () =>
      post(agent, base, key, "transactions.createMany", {
        idempotencyKey: `bench-${randomBytes(8).toString("hex")}`,
        transactions: Array.from({ length: batchSize }, () => transaction(seq++)),
      })
    // Warm-up: compiles the code paths of the API, the relay and the worker.
    const warmUp = receiver.arrivals.size
    for (let i = 0; i < 50; i++) await single()
    await batch()
    const warmDeadline = performance.now() + drainMs
    while (receiver.arrivals.size - warmUp < 50 + batchSize && performance.now() < warmDeadline)
      await sleep(50)
    // The figures of one load only: the warm-up's arrivals are not counted.
    receiver.arrivals.clear()

    await load(`single creates, ${singleClients} connections`, singleClients, 1, single)
    await load(
      `createMany of ${batchSize}, ${batchClients} connections`,
      batchClients,
      batchSize,
      batch,
    )
    if (receiver.duplicates() > 0)
      console.log(`  the receiver got ${receiver.duplicates()} event(s) more than once`)
  } finally {
    agent.destroy()
    await worker?.stop()
    await api?.stop()
    await receiver.close()
    await database.close()
  }
  return figures
}

export const run = async (options: WorkerBenchOptions) => {
  const redisUrl = process.env.REDIS_URL
  let database: BenchDatabase | undefined
  if (redisUrl === undefined || redisUrl === "") {
    console.log("Trivial jobs: skipped, REDIS_URL is not set (they compare with BullMQ on Redis)")
  } else {
    database = await openBenchDatabase()
    try {
      await trivialJobsBench(database, redisUrl, options.rounds)
    } finally {
      await database.close()
    }
  }
  const backends =
    redisUrl === undefined || redisUrl === ""
      ? (["postgres"] as const)
      : (["redis", "postgres"] as const)
  for (const backend of backends) {
    const figures = await endToEnd(backend, options.seconds)
    console.log(
      `\nEnd to end, ${backend === "redis" ? "Redis" : "PostgreSQL"} queue backend: ` +
        `each load ${options.seconds} s, one webhook on transaction.created, receiver on 127.0.0.1; ` +
        `lag from the transaction's createdAt to its event's arrival\n`,
    )
    printTable([
      [
        "load",
        "created",
        "creates/s",
        "events delivered/s",
        "lag p50 ms",
        "lag p99 ms",
        "lag max ms",
        "after answer p50 ms",
        "after answer p99 ms",
        "not arrived",
        "receiver connections",
        "worker CPU ms/event",
      ],
      ...figures.map((f) => [
        f.label,
        integer(f.created),
        integer(f.createRate),
        integer(f.deliveredRate),
        integer(f.p50),
        integer(f.p99),
        integer(f.max),
        integer(f.answeredP50),
        integer(f.answeredP99),
        integer(f.missing),
        integer(f.connections),
        fixed(f.workerCpu, 2),
      ]),
    ])
    for (const f of figures)
      if (Object.keys(f.failures).length > 0)
        console.log(`  ${f.label}: failed calls by status ${JSON.stringify(f.failures)}`)
  }
}
