/**
 * `npm run bench -- createMany`: the rate of `transactions.createMany` in batches of 1,000. Starts
 * the API (`apps/api/src/main.ts`, as `npm start` does) on a fresh, migrated database of
 * DATABASE_URL's server or of the embedded PostgreSQL, on a free loopback port, with 100 accounts.
 * One client, then four, each send batches of 1,000 mixed items (posted and pending, credits and
 * debits, over the client's share of the accounts, so clients do not wait on each other's account
 * locks; each batch with its own idempotency key) one after another. Prints
 * transactions per second, each batch's median and p99 latency, and the API's CPU time per
 * transaction (Linux). Bounded: each client stops after `durationMs` or `maxBatches` batches.
 */
import { randomBytes } from "node:crypto"
import {
  benchUser,
  cpuMsOf,
  openBenchDatabase,
  percentile,
  type Server,
  startApi,
} from "./harness.ts"

const batchSize = 1000
const accountCount = 100
const durationMs = 10_000
const maxBatches = 200
const clientCounts = [1, 4] as const

const call = async (base: string, key: string, path: string, input: unknown) => {
  const response = await fetch(`${base}/trpc/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(input),
  })
  const body = (await response.json()) as { result?: { data?: unknown } }
  return { status: response.status, data: body.result?.data }
}

/** A batch of mixed items over all accounts: mostly posted, some holds, credits and debits. */
const batchOf = (accounts: ReadonlyArray<string>, seed: number) => ({
  idempotencyKey: `bench-${seed}-${randomBytes(6).toString("hex")}`,
  transactions: Array.from({ length: batchSize }, (_, i) => ({
    accountId: accounts[(seed * 7 + i) % accounts.length],
    direction: i % 3 === 0 ? "debit" : "credit",
    amount: 1 + ((seed * 31 + i * 17) % 5_000),
    currency: "USD",
    ...(i % 10 === 0 ? { status: "pending" } : {}),
    description: `Bench ${seed}/${i}`,
  })),
})

export const run = async () => {
  const database = await openBenchDatabase()
  let api: Server | undefined
  try {
    const key = (await benchUser(database)).secret
    // Batches are what is measured here, not the rate limit.
    api = await startApi(database, { TXN_RATE_LIMIT_PER_MINUTE: "1000000" })
    const { base } = api
    const accounts: Array<string> = []
    for (let i = 0; i < accountCount; i++) {
      const created = await call(base, key, "accounts.create", {
        name: `Bench ${i}`,
        currency: "USD",
        allowNegative: true,
      })
      if (created.status !== 200) throw new Error(`accounts.create answered ${created.status}`)
      accounts.push((created.data as { id: string }).id)
    }
    console.log(
      `API on ${base}; database ${database.config.databaseUrl === undefined ? "embedded PostgreSQL" : "DATABASE_URL's server"}; ` +
        `batches of ${batchSize} over ${accountCount} accounts, for ${durationMs / 1000} s or ${maxBatches} batches per client`,
    )
    let seed = 0
    // Warm-up: the first batches compile the code paths and fill the caches.
    for (let i = 0; i < 3; i++)
      await call(base, key, "transactions.createMany", batchOf(accounts, seed++))
    for (const clients of clientCounts) {
      const latencies: Array<number> = []
      const statuses = new Map<number, number>()
      const cpuBefore = await cpuMsOf(api.process.pid)
      const started = performance.now()
      await Promise.all(
        Array.from({ length: clients }, async (_, client) => {
          const share = accounts.filter((_, i) => i % clients === client)
          for (let i = 0; i < maxBatches && performance.now() - started < durationMs; i++) {
            const input = batchOf(share, seed++)
            const sent = performance.now()
            const { status } = await call(base, key, "transactions.createMany", input)
            latencies.push(performance.now() - sent)
            statuses.set(status, (statuses.get(status) ?? 0) + 1)
          }
        }),
      )
      const elapsed = performance.now() - started
      const cpuAfter = await cpuMsOf(api.process.pid)
      latencies.sort((a, b) => a - b)
      const created = (statuses.get(200) ?? 0) * batchSize
      const cpu =
        cpuBefore === undefined || cpuAfter === undefined || created === 0
          ? ""
          : `   API CPU ${(((cpuAfter - cpuBefore) * 1000) / created).toFixed(1)} µs per transaction`
      console.log(
        `  ${String(clients).padStart(2)} client(s): ${Math.round(created / (elapsed / 1000))} transactions/s` +
          `   batch median ${percentile(latencies, 50).toFixed(0)} ms   p99 ${percentile(latencies, 99).toFixed(0)} ms` +
          `${cpu}   statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
      )
    }
  } finally {
    await api?.stop()
    await database.close()
  }
}
