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
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { readFile } from "node:fs/promises"
import { createServer } from "node:net"
import { loadConfigOrExit } from "@txn/config"
import { connectDatabase, createDatabase, dropDatabase, migrate } from "@txn/db"
import { Access } from "@txn/domain"
import { makeAccessLayer } from "@txn/platform"
import { Effect, ManagedRuntime, Redacted } from "effect"

const batchSize = 1000
const accountCount = 100
const durationMs = 10_000
const maxBatches = 200
const clientCounts = [1, 4] as const

const freeLoopbackPort = async () => {
  const probe = createServer().listen(0, "127.0.0.1")
  await once(probe, "listening")
  const address = probe.address()
  probe.close()
  if (address === null || typeof address === "string") throw new Error("no free port")
  return address.port
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Nearest-rank percentile of sorted numbers. */
const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0

/** CPU time (user + system) the process has used so far, in ms, from Linux's /proc. */
const cpuMsOf = async (pid: number | undefined) => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined)
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ")
  if (fields === undefined) return undefined
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const stopApi = async (api: ChildProcess) => {
  if (api.exitCode !== null || api.signalCode !== null) return
  api.kill("SIGTERM")
  await once(api, "exit")
}

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
  const config = loadConfigOrExit()
  const server = await connectDatabase(config)
  const serverUrl = new URL(Redacted.value(server.url))
  const name = `txn_bench_${Date.now()}_${randomBytes(3).toString("hex")}`
  await createDatabase(serverUrl.href, name)
  const benchUrl = new URL(serverUrl.href)
  benchUrl.pathname = `/${name}`
  const access = ManagedRuntime.make(
    makeAccessLayer({ databaseUrl: Redacted.make(benchUrl.href), maxConnections: 1 }),
  )
  let api: ChildProcess | undefined
  try {
    await access.runPromise(migrate.pipe(Effect.orDie))
    const key = await access.runPromise(
      Access.use((access) =>
        Effect.gen(function* () {
          const user = yield* access.createUser({ name: "Bench user" })
          const { secret } = yield* access.createApiKey({
            userId: user.id,
            name: "bench",
            scopes: ["read", "write"],
          })
          return secret
        }),
      ).pipe(Effect.orDie),
    )
    const port = await freeLoopbackPort()
    const base = `http://127.0.0.1:${port}`
    api = spawn(process.execPath, ["apps/api/src/main.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: benchUrl.href,
        HOST: "127.0.0.1",
        PORT: String(port),
        // Batches are what is measured here, not the rate limit.
        TXN_RATE_LIMIT_PER_MINUTE: "1000000",
      },
      stdio: ["ignore", "ignore", "inherit"],
    })
    const deadline = Date.now() + 60_000
    const isReady = () =>
      fetch(`${base}/readyz`).then(
        (response) => response.ok,
        () => false,
      )
    while (!(await isReady())) {
      if (Date.now() > deadline || api.exitCode !== null) throw new Error("the API did not start")
      await sleep(250)
    }
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
      `API on ${base}; database ${config.databaseUrl === undefined ? "embedded PostgreSQL" : "DATABASE_URL's server"}; ` +
        `batches of ${batchSize} over ${accountCount} accounts, for ${durationMs / 1000} s or ${maxBatches} batches per client`,
    )
    let seed = 0
    // Warm-up: the first batches compile the code paths and fill the caches.
    for (let i = 0; i < 3; i++)
      await call(base, key, "transactions.createMany", batchOf(accounts, seed++))
    for (const clients of clientCounts) {
      const latencies: Array<number> = []
      const statuses = new Map<number, number>()
      const cpuBefore = await cpuMsOf(api.pid)
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
      const cpuAfter = await cpuMsOf(api.pid)
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
    await access.dispose()
    if (api !== undefined) await stopApi(api)
    await dropDatabase(serverUrl.href, name)
    await server.stop()
  }
}
