/**
 * `npm run bench -- flood`: what a flood of batches of unknown procedures without a key does to
 * a normal client. Starts the API (`apps/api/src/main.ts`, as `npm start` does) on a fresh,
 * migrated database of DATABASE_URL's server or of the embedded PostgreSQL, on a free loopback
 * port. A normal client with an API key calls `accounts.list` every 25 ms: alone, then while two
 * flooding clients (worker threads, loopback only) send as fast as the API answers, with 1 and
 * then 4 connections each: one the batch of 7,000 unknown names (`/trpc/x,x,...?batch=1`), the
 * other a batch of as many unknown names as TXN_MAX_BATCH_CALLS allows; and last, as the floor,
 * the same flood of `GET /healthz`, the cheapest request the API answers. Prints the normal
 * client's median and p99 latency per phase with their ratio to the phase alone, what the
 * flooders got back, and the API's CPU time per flood request (Linux). Bounded: each phase sends
 * 400 normal calls; a flood stops 2 s after its phase's calls would end, or at 1,000,000 requests.
 */
import { Agent, request } from "node:http"
import { Worker } from "node:worker_threads"
import { Access } from "@txn/domain"
import * as Effect from "effect/Effect"
import type { FlooderOptions, FlooderReport } from "./flooder.ts"
import { cpuMsOf, openBenchDatabase, percentile, type Server, sleep, startApi } from "./harness.ts"

const normalCalls = 400
const intervalMs = 25
/**
 * The normal client alone; then with two flooding clients of 1 and of 4 connections each; then,
 * for the floor, what the same flood of the cheapest request there is (`/healthz`) costs it.
 */
const phases = [
  { label: "alone", connections: 0, flood: "batches" },
  { label: "2 flooders x 1 connection", connections: 1, flood: "batches" },
  { label: "2 flooders x 4 connections", connections: 4, flood: "batches" },
  { label: "same, of GET /healthz", connections: 4, flood: "healthz" },
] as const

const ms = (value: number) => `${value.toFixed(1)} ms`

/** `accounts.list` with `key`, `calls` times, one every `intervalMs`; the latency of each. */
const normalClient = async (base: string, key: string, calls: number) => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const target = new URL(`/trpc/accounts.list?input=${encodeURIComponent("{}")}`, base)
  const latencies: Array<number> = []
  const statuses = new Map<number, number>()
  const start = performance.now()
  for (let i = 0; i < calls; i++) {
    const due = start + i * intervalMs
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    const sent = performance.now()
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(target, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode ?? 0))
      })
      req.on("error", reject)
      req.end()
    })
    latencies.push(performance.now() - sent)
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
  }
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    median: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses: Object.fromEntries(statuses),
  }
}

const startFlooder = (options: FlooderOptions) => {
  const worker = new Worker(new URL("./flooder.ts", import.meta.url), { workerData: options })
  return new Promise<FlooderReport>((resolve, reject) => {
    worker.once("message", (report: FlooderReport) => resolve(report))
    worker.once("error", reject)
  })
}

export const run = async () => {
  const database = await openBenchDatabase()
  const { config } = database
  let api: Server | undefined
  try {
    // One key per phase, so no phase spends another's rate-limit budget.
    const keys = await database.access.runPromise(
      Access.use((access) =>
        Effect.gen(function* () {
          const user = yield* access.createUser({ name: "Bench user" })
          return yield* Effect.forEach(["warm-up", ...phases.map((phase) => phase.label)], (name) =>
            access
              .createApiKey({ userId: user.id, name, scopes: ["read", "write"] })
              .pipe(Effect.map(({ secret }) => secret)),
          )
        }),
      ).pipe(Effect.orDie),
    )
    const [warmUpKey = "", ...phaseKeys] = keys

    api = await startApi(database)
    const { base } = api
    const created = await fetch(`${base}/trpc/accounts.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${warmUpKey}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Wallet", currency: "USD" }),
    })
    if (!created.ok) throw new Error(`accounts.create answered ${created.status}`)

    console.log(
      `API on ${base}; database ${config.databaseUrl === undefined ? "embedded PostgreSQL" : "DATABASE_URL's server"}; ` +
        `rate limit ${config.rateLimitPerMinute}/min${config.redisUrl === undefined ? " in memory" : " in Redis"}; ` +
        `batch cap ${config.maxBatchCalls} calls`,
    )
    console.log(
      `Normal client: ${normalCalls} calls of accounts.list, one every ${intervalMs} ms, per phase. ` +
        `Flooders: one sends 7000 unknown names per batch, the other ${config.maxBatchCalls}; no key.`,
    )
    await normalClient(base, warmUpKey, 100)
    const floodMs = normalCalls * intervalMs + 2_000
    let alone: Awaited<ReturnType<typeof normalClient>> | undefined
    for (const [i, phase] of phases.entries()) {
      const batch = (calls: number) =>
        `${base}/trpc/${Array.from({ length: calls }, () => "x").join(",")}?batch=1`
      const targets =
        phase.flood === "healthz"
          ? [`${base}/healthz`, `${base}/healthz`]
          : [batch(7_000), batch(config.maxBatchCalls)]
      const flooders = targets.flatMap((url) =>
        phase.connections === 0
          ? []
          : [
              startFlooder({
                url,
                connections: phase.connections,
                durationMs: floodMs,
                maxRequests: 1_000_000,
              }),
            ],
      )
      const cpuBefore = await cpuMsOf(api.process.pid)
      if (flooders.length > 0) await sleep(1_000)
      const figures = await normalClient(base, phaseKeys[i] ?? "", normalCalls)
      const reports = await Promise.all(flooders)
      const cpuAfter = await cpuMsOf(api.process.pid)
      alone ??= figures
      console.log(
        `  ${phase.label.padEnd(30)} median ${ms(figures.median).padStart(9)} (${(figures.median / alone.median).toFixed(2)}x)` +
          `   p99 ${ms(figures.p99).padStart(9)} (${(figures.p99 / alone.p99).toFixed(2)}x)` +
          `   statuses ${JSON.stringify(figures.statuses)}`,
      )
      const floodRequests = reports.reduce((sum, report) => sum + report.requests, 0)
      for (const report of reports) {
        console.log(
          `      flooder: ${Math.round(report.requests / (floodMs / 1000))} requests/s, ` +
            `${Math.round(report.bytesSent / report.requests)} B sent and ` +
            `${Math.round(report.bytesReceived / report.requests)} B received per request, ` +
            `statuses ${JSON.stringify(report.statuses)}`,
        )
      }
      if (floodRequests > 0 && cpuBefore !== undefined && cpuAfter !== undefined) {
        console.log(
          `      API CPU: ${((cpuAfter - cpuBefore) / floodRequests).toFixed(2)} ms per flood request ` +
            `(${cpuAfter - cpuBefore} ms for ${floodRequests} of them and ${normalCalls} normal calls)`,
        )
      }
    }
  } finally {
    await api?.stop()
    await database.close()
  }
}
