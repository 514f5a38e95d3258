/**
 * `npm run bench -- replicas [--seconds 4] [--rounds 3]`: throughput of one, two and three API
 * processes on one database, and the database's own limit beside them. On a fresh, migrated
 * database (DATABASE_URL's server or the embedded PostgreSQL) it starts three API processes as
 * `npm start` does (pool 10 each, rate limit out of the way) and runs two loads over 24 kept-alive
 * connections, spread evenly over the first one, two or three processes (as a load balancer
 * would), the three systems in alternating rounds:
 *
 * - `list`: the first page (50) of an account of 10,000 rows; the limit: the API's page query
 *   from a `pg` loop on 10 connections;
 * - `create`: `transactions.create` with an idempotencyKey on one of 100 funded accounts at
 *   random; the limit: the API's whole write in one statement.
 *
 * CPU per request is of the processes under load, summed, and of PostgreSQL.
 */
import { cpus, loadavg } from "node:os"
import pg from "pg"
import { apiPage, apiWriteInOneStatement, randomCreate, seedRows } from "./apiSql.ts"
import { type Figures, inRounds, printTable, type RoundOptions, type System } from "./figures.ts"
import {
  benchUser,
  onThisMachine,
  openBenchDatabase,
  type Server,
  startApi,
  trpcCaller,
} from "./harness.ts"
import { type HttpRequest, httpLoad, sqlLoad } from "./load.ts"

const poolSize = 10
const httpConnections = 24
const processCounts = [1, 2, 3] as const
const spreadAccounts = 100
const listRows = 10_000
const pageSize = 50
const funding = 1_000_000_000_000

export const run = async (options: RoundOptions) => {
  const database = await openBenchDatabase()
  const loopback = onThisMachine(database)
  const monitor = new pg.Client({ connectionString: database.url })
  const clients = Array.from(
    { length: poolSize },
    () => new pg.Client({ connectionString: database.url }),
  )
  const apis: Array<Server> = []
  try {
    const { userId, keyId, secret } = await benchUser(database)
    for (const _ of processCounts) {
      apis.push(
        await startApi(database, {
          DATABASE_POOL_MAX: String(poolSize),
          TXN_RATE_LIMIT_PER_MINUTE: "1000000000",
        }),
      )
    }
    const call = trpcCaller(apis[0]!.base, secret)
    // Opened and funded ten at a time.
    const spread: Array<string> = []
    for (let i = 0; i < spreadAccounts; i += 10) {
      const opened = await Promise.all(
        Array.from({ length: Math.min(10, spreadAccounts - i) }, async (_, j) => {
          const { id } = await call("accounts.create", { name: `Bench ${i + j}`, currency: "USD" })
          await call("transactions.create", {
            accountId: id,
            direction: "credit",
            amount: funding,
            currency: "USD",
          })
          return id
        }),
      )
      spread.push(...opened)
    }
    const listed = (await call("accounts.create", { name: "Listed", currency: "USD" })).id
    await monitor.connect()
    await seedRows(monitor, userId, [{ id: listed, rows: listRows }])
    await monitor.query("vacuum (analyze) transactions, ledger_entries, accounts")
    await Promise.all(clients.map((client) => client.connect()))

    const auth = { authorization: `Bearer ${secret}` }
    const pick = () => spread[Math.floor(Math.random() * spread.length)]!
    let key = 0
    const create = (): HttpRequest => ({
      method: "POST",
      path: "/trpc/transactions.create",
      headers: auth,
      body: JSON.stringify({ idempotencyKey: `bench-${key++}`, ...randomCreate(pick()) }),
    })
    const list: HttpRequest = {
      method: "GET",
      path: `/trpc/transactions.list?input=${encodeURIComponent(JSON.stringify({ accountId: listed, limit: pageSize }))}`,
      headers: auth,
    }
    const across = (next: () => HttpRequest): Array<System> =>
      processCounts.map((count) => ({
        label: `${count} API process${count === 1 ? "" : "es"}`,
        pids: apis.slice(0, count).map((api) => api.process.pid),
        run: (bounds) =>
          httpLoad(
            apis.slice(0, count).map((api) => api.base),
            httpConnections,
            bounds,
            next,
          ),
      }))

    const [version] = (await monitor.query<{ server_version: string }>("show server_version")).rows
    console.log(
      `PostgreSQL ${version?.server_version} (${database.config.databaseUrl === undefined ? "embedded" : "DATABASE_URL's server"}). ` +
        `Up to ${processCounts.length} API processes, pools ${poolSize} each, ${httpConnections} HTTP connections spread over them, ${poolSize} for raw SQL. ` +
        `${options.rounds} rounds of ${options.seconds} s per system after 1 s of warm-up. ` +
        `${cpus().length} CPUs, load average ${loadavg()
          .map((n) => n.toFixed(2))
          .join(" ")}.` +
        (loopback ? "" : " PostgreSQL is not on this machine: its CPU is not measured."),
    )

    const compare = async (name: string, title: string, systems: Array<System>, sql: System) => {
      const figures = await inRounds(monitor, loopback, [...systems, sql], options)
      console.log(`\n${name}: ${title}`)
      const [one, ...more] = systems
      printTable(figures, [
        ...systems.map((system) => ({ system })),
        ...more.map((system) => ({
          label: `${system.label.split(" ")[0]} / 1`,
          over: system,
          under: one!,
        })),
        { system: sql },
      ])
      const best = (system: System) =>
        Math.max(...(figures.get(system) ?? []).map((f: Figures) => f.rps))
      console.log(
        `  best round: ${systems.map((system) => `${system.label} ${best(system).toFixed(0)}/s`).join(", ")}; ` +
          `${sql.label} ${best(sql).toFixed(0)}/s`,
      )
    }

    await compare(
      "list",
      `the first page (${pageSize}) of transactions of an account of ${listRows.toLocaleString("en")} rows`,
      across(() => list),
      {
        label: "SQL: the API's page query",
        run: (bounds) =>
          sqlLoad(clients, bounds, (client) => apiPage(client, userId, listed, pageSize)),
      },
    )
    await compare(
      "create",
      `transactions.create with an idempotencyKey, on one of ${spreadAccounts} funded accounts at random`,
      across(create),
      {
        label: "SQL: the API's write, 1 statement",
        run: (bounds) =>
          sqlLoad(clients, bounds, (client) =>
            apiWriteInOneStatement(client, userId, keyId, pick(), `bench-${key++}`),
          ),
      },
    )
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)))
    await monitor.end().catch(() => undefined)
    for (const api of apis) await api.stop()
    await database.close()
  }
}
