/**
 * `npm run bench -- throughput [--seconds 4] [--rounds 3]`: the API's throughput, latency, CPU
 * and memory against a plain hand-written endpoint (scripts/bench/plain.ts) and raw SQL, the
 * limit of the database itself. On a fresh, migrated database of DATABASE_URL's server or of the
 * embedded PostgreSQL it starts the API (`apps/api/src/main.ts`, as `npm start` does; pool 10,
 * rate limit out of the way) and the plain endpoint (pool 10), and runs four loads:
 *
 * - `create`: `transactions.create` with an idempotencyKey, 1 to 1,000 minor units in a random
 *   direction, on one of 100 funded accounts at random, through tRPC and through REST
 *   (`POST /v1/transactions`, its key as Idempotency-Key); the plain endpoint's create on the same;
 *   raw SQL: the API's whole write (key, balance check and update, row, history event, ledger
 *   entry; its triggers add the outbox event) in one statement, and the plain endpoint's four;
 * - `create-hot`: the same on one account, so every create waits for the one before;
 * - `list-10k`, `list-100k`: the first page (50) of an account of 10,000 or 100,000 rows (loaded
 *   set-based at the start, and copied into the plain tables), through tRPC and through REST
 *   (`GET /v1/transactions?accountId=…&limit=50`); raw SQL: the API's page query.
 *
 * HTTP systems get 20 kept-alive connections, raw SQL 10 (the pools' size). Each load warms each
 * system up for a second, then runs `--rounds` rounds of `--seconds` per system, the systems in
 * turn (the order reversed every other round), and prints per system the range over the rounds of
 * requests/s, p50 and p99 latency, CPU per request of the app's process and of PostgreSQL (the
 * bench database's backends and the server's background processes, from /proc: a server on
 * this machine only), the app's peak resident memory (sampled every 100 ms) and this process's
 * CPU per request as the client, the API's figures over the plain endpoint's and REST's over
 * tRPC's, round by round.
 * Bounded: each round stops after its seconds, or at 500,000 requests.
 */
import { cpus, loadavg } from "node:os"
import pg from "pg"
import {
  apiPage,
  apiWriteInOneStatement,
  randomAmount,
  randomCreate,
  randomDirection,
  seedRows,
} from "./apiSql.ts"
import {
  type Figures,
  inRounds,
  mb,
  pooledCpu,
  printTable as printRows,
  type System,
  warmUpMs,
} from "./figures.ts"
import {
  benchUser,
  onThisMachine,
  openBenchDatabase,
  rssOf,
  type Server,
  startApi,
  startServer,
  trpcCaller,
} from "./harness.ts"
import { type HttpRequest, httpLoad, sqlLoad } from "./load.ts"
import { newId, plainSchema, plainStatements } from "./plain.ts"

export interface ThroughputOptions {
  /** Per system and round. */
  readonly seconds: number
  readonly rounds: number
  /** The loads to run by name; all when not given. */
  readonly loads?: ReadonlyArray<string> | undefined
}

const poolSize = 10
const httpConnections = 20
const spreadAccounts = 100
const listSizes = [10_000, 100_000] as const
const pageSize = 50
const currency = "USD"
const funding = 1_000_000_000_000

interface Load {
  readonly name: string
  readonly title: string
  /** The API through tRPC. */
  readonly api: System
  /** The same work through the API's REST door. */
  readonly rest: System
  readonly plain: System
  readonly sql: ReadonlyArray<System>
}

const loadNames = [...listSizes.map((rows) => `list-${rows / 1000}k`), "create", "create-hot"]

export const run = async (options: ThroughputOptions) => {
  const unknown = options.loads?.filter((name) => !loadNames.includes(name)) ?? []
  if (unknown.length > 0) {
    throw new Error(`Unknown load ${unknown.join(", ")}; known: ${loadNames.join(", ")}`)
  }
  const setupStarted = performance.now()
  const database = await openBenchDatabase()
  const loopback = onThisMachine(database)
  let api: Server | undefined
  let plain: Server | undefined
  const monitor = new pg.Client({ connectionString: database.url })
  const clients = Array.from(
    { length: poolSize },
    () => new pg.Client({ connectionString: database.url }),
  )
  try {
    const { userId, keyId, secret } = await benchUser(database)
    api = await startApi(database, {
      DATABASE_POOL_MAX: String(poolSize),
      TXN_RATE_LIMIT_PER_MINUTE: "1000000000",
    })
    const apiIdleRss = await rssOf(api.process.pid)
    const apiBase = api.base
    const auth = { authorization: `Bearer ${secret}` }
    const call = trpcCaller(apiBase, secret)

    const accounts: Array<string> = []
    for (let i = 0; i < spreadAccounts + 1 + listSizes.length; i++) {
      accounts.push((await call("accounts.create", { name: `Bench ${i}`, currency })).id)
    }
    const spread = accounts.slice(0, spreadAccounts)
    const hot = accounts[spreadAccounts]!
    const listed = accounts.slice(spreadAccounts + 1)
    for (const accountId of [...spread, hot]) {
      await call("transactions.create", {
        accountId,
        direction: "credit",
        amount: funding,
        currency,
        description: "Funding",
      })
    }

    await monitor.connect()
    for (const statement of plainSchema) await monitor.query(statement)
    await seedRows(
      monitor,
      userId,
      listed.map((id, i) => ({ id, rows: listSizes[i]! })),
    )
    await monitor.query(
      `insert into plain.accounts (id, currency, balance, allow_negative)
       select id, currency, posted_balance, allow_negative from accounts`,
    )
    await monitor.query(
      `insert into plain.transactions
       select id, account_id, direction, amount, currency, description, occurred_at, created_at
         from transactions where account_id = any($1)`,
      [listed],
    )
    await monitor.query(
      "vacuum (analyze) transactions, ledger_entries, accounts, plain.transactions, plain.accounts",
    )
    plain = await startServer("scripts/bench/plain.ts", {
      env: { DATABASE_URL: database.url },
      args: (port) => ["--port", String(port), "--pool", String(poolSize)],
    })
    const plainIdleRss = await rssOf(plain.process.pid)
    const plainBase = plain.base
    await Promise.all(clients.map((client) => client.connect()))
    const [version] = (await monitor.query<{ server_version: string }>("show server_version")).rows

    const apiPid = api.process.pid
    const plainPid = plain.process.pid
    let key = 0
    const createLoad = (name: string, title: string, pick: () => string): Load => ({
      name,
      title,
      api: {
        label: "API",
        pids: [apiPid],
        run: (bounds) =>
          httpLoad(apiBase, httpConnections, bounds, () => ({
            method: "POST",
            path: "/trpc/transactions.create",
            headers: auth,
            body: JSON.stringify({ idempotencyKey: `bench-${key++}`, ...randomCreate(pick()) }),
          })),
      },
      rest: {
        label: "API, REST",
        pids: [apiPid],
        run: (bounds) =>
          httpLoad(apiBase, httpConnections, bounds, () => ({
            method: "POST",
            path: "/v1/transactions",
            headers: { ...auth, "idempotency-key": `bench-${key++}` },
            body: JSON.stringify(randomCreate(pick())),
          })),
      },
      plain: {
        label: "plain endpoint",
        pids: [plainPid],
        run: (bounds) =>
          httpLoad(plainBase, httpConnections, bounds, () => ({
            method: "POST",
            path: "/transactions",
            body: JSON.stringify(randomCreate(pick())),
          })),
      },
      sql: [
        {
          label: "SQL: the API's write, 1 statement",
          run: (bounds) =>
            sqlLoad(clients, bounds, (client) =>
              apiWriteInOneStatement(client, userId, keyId, pick(), `bench-${key++}`),
            ),
        },
        {
          label: "SQL: the plain endpoint's 4",
          run: (bounds) => sqlLoad(clients, bounds, (client) => plainWrite(client, pick())),
        },
      ],
    })
    const listLoad = (rows: number, accountId: string): Load => {
      const apiList: HttpRequest = {
        method: "GET",
        path: `/trpc/transactions.list?input=${encodeURIComponent(JSON.stringify({ accountId, limit: pageSize }))}`,
        headers: auth,
      }
      const restList: HttpRequest = {
        method: "GET",
        path: `/v1/transactions?accountId=${accountId}&limit=${pageSize}`,
        headers: auth,
      }
      const plainList: HttpRequest = {
        method: "GET",
        path: `/transactions?accountId=${accountId}&limit=${pageSize}`,
      }
      return {
        name: `list-${rows / 1000}k`,
        title: `the first page (${pageSize}) of transactions of an account of ${rows.toLocaleString("en")} rows`,
        api: {
          label: "API",
          pids: [apiPid],
          run: (bounds) => httpLoad(apiBase, httpConnections, bounds, () => apiList),
        },
        rest: {
          label: "API, REST",
          pids: [apiPid],
          run: (bounds) => httpLoad(apiBase, httpConnections, bounds, () => restList),
        },
        plain: {
          label: "plain endpoint",
          pids: [plainPid],
          run: (bounds) => httpLoad(plainBase, httpConnections, bounds, () => plainList),
        },
        sql: [
          {
            label: "SQL: the API's page query",
            run: (bounds) =>
              sqlLoad(clients, bounds, (client) => apiPage(client, userId, accountId, pageSize)),
          },
        ],
      }
    }
    const allLoads = [
      ...listSizes.map((rows, i) => listLoad(rows, listed[i]!)),
      createLoad(
        "create",
        `transactions.create with an idempotencyKey, on one of ${spreadAccounts} funded accounts at random`,
        () => spread[Math.floor(Math.random() * spread.length)]!,
      ),
      createLoad(
        "create-hot",
        "transactions.create with an idempotencyKey, all on one funded account",
        () => hot,
      ),
    ]
    const loads = allLoads.filter((load) => options.loads?.includes(load.name) ?? true)

    console.log(
      `PostgreSQL ${version?.server_version} (${database.config.databaseUrl === undefined ? "embedded" : "DATABASE_URL's server"}), ` +
        `set up in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s. ` +
        `API: rate limit out of the way, counted ${database.config.redisUrl === undefined ? "in memory" : "in Redis"}, ` +
        `log level ${database.config.logLevel} (stdout discarded), jobs on ${database.config.redisUrl === undefined ? "PostgreSQL" : "Redis"} (no worker running). ` +
        `Pools ${poolSize}; ${httpConnections} HTTP connections, ${poolSize} for raw SQL. ` +
        `${options.rounds} rounds of ${options.seconds} s per system after ${warmUpMs / 1000} s of warm-up. ` +
        `${cpus().length} CPUs, load average ${loadavg()
          .map((n) => n.toFixed(2))
          .join(" ")}. Idle RSS: API ${mb(apiIdleRss)} MB, plain ${mb(plainIdleRss)} MB.` +
        (loopback ? "" : " PostgreSQL is not on this machine: its CPU is not measured."),
    )

    for (const load of loads) {
      const systems = [load.api, load.rest, load.plain, ...load.sql]
      const figures = await inRounds(monitor, loopback, systems, options)
      console.log(`\n${load.name}: ${load.title}`)
      printTable(load, figures)
    }
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)))
    await monitor.end().catch(() => undefined)
    await api?.stop()
    await plain?.stop()
    await database.close()
  }
}

const plainWrite = async (client: pg.Client, accountId: string) => {
  const direction = randomDirection()
  const amount = randomAmount()
  await client.query("begin")
  try {
    const updated = await client.query({
      name: "plain-update",
      text: plainStatements.update,
      values: [accountId, direction === "credit" ? amount : -amount, currency],
    })
    if (updated.rowCount !== 1) throw new Error(`refused on ${accountId}`)
    await client.query({
      name: "plain-insert",
      text: plainStatements.insert,
      values: [newId(), accountId, direction, amount, currency, "Card payment"],
    })
    await client.query("commit")
  } catch (error) {
    await client.query("rollback")
    throw error
  }
}

const printTable = (load: Load, figures: ReadonlyMap<System, ReadonlyArray<Figures>>) => {
  printRows(figures, [
    { system: load.api },
    { system: load.plain },
    { label: "API / plain", over: load.api, under: load.plain },
    { system: load.rest },
    { label: "REST / tRPC", over: load.rest, under: load.api },
    ...load.sql.map((system) => ({ system })),
  ])
  const pooled = (over: System, under: System) => {
    const [a, b] = [pooledCpu(figures.get(over) ?? []), pooledCpu(figures.get(under) ?? [])]
    return a === undefined || b === undefined ? "—" : (a / b).toFixed(2)
  }
  console.log(
    `  app CPU per request over all rounds: API / plain ${pooled(load.api, load.plain)}, REST / tRPC ${pooled(load.rest, load.api)}`,
  )
}
