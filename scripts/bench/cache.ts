/**
 * `npm run bench -- cache [--seconds 4] [--rounds 3]`: what the API's caches save, each against
 * the same API with it turned off, in one run. On a fresh, migrated database (DATABASE_URL's
 * server or the embedded PostgreSQL) it starts three API processes as `npm start` does (pool 10,
 * rate limit out of the way): one as configured by default, one with `TXN_SUMMARY_CACHE_MAX=0`,
 * one with `TXN_API_KEY_CACHE_TTL_MS=0`. The user has an account of 100,000 rows. Loads, over 20
 * kept-alive connections, the systems in alternating rounds:
 *
 * - `summary`: `transactions.summary` of that account by month, over all its time;
 * - `summary-writes`: the same while another client creates a transaction for that user every
 *   50 ms (20/s), each change making every kept summary of the user stale;
 * - `account`: `accounts.get` of that account, one indexed row: with the API-key cache and
 *   without; the account itself is never cached, and its PostgreSQL CPU per request says what
 *   a cache of it could save at most.
 */
import { cpus, loadavg } from "node:os"
import pg from "pg"
import { seedRows } from "./apiSql.ts"
import { inRounds, mb, pooledCpu, printTable, type RoundOptions, type System } from "./figures.ts"
import {
  benchUser,
  onThisMachine,
  openBenchDatabase,
  rssOf,
  type Server,
  sleep,
  startApi,
  trpcCaller,
} from "./harness.ts"
import { type HttpRequest, httpLoad } from "./load.ts"

const poolSize = 10
const httpConnections = 20
const rows = 100_000
const writeEveryMs = 50

export const run = async (options: RoundOptions) => {
  const database = await openBenchDatabase()
  const loopback = onThisMachine(database)
  const monitor = new pg.Client({ connectionString: database.url })
  const apis: Array<Server> = []
  try {
    const { userId, secret } = await benchUser(database)
    const start = (env: Record<string, string>) =>
      startApi(database, {
        DATABASE_POOL_MAX: String(poolSize),
        TXN_RATE_LIMIT_PER_MINUTE: "1000000000",
        ...env,
      }).then((api) => {
        apis.push(api)
        return api
      })
    const cached = await start({})
    const noSummaries = await start({ TXN_SUMMARY_CACHE_MAX: "0" })
    const noKeys = await start({ TXN_API_KEY_CACHE_TTL_MS: "0" })
    const call = trpcCaller(cached.base, secret)
    const account = (await call("accounts.create", { name: "Summarized", currency: "USD" })).id
    const spare = (await call("accounts.create", { name: "Written to", currency: "USD" })).id
    await monitor.connect()
    await seedRows(monitor, userId, [{ id: account, rows }])
    await monitor.query("vacuum (analyze) transactions, accounts")

    const auth = { authorization: `Bearer ${secret}` }
    const get = (path: string, input: unknown): HttpRequest => ({
      method: "GET",
      path: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
      headers: auth,
    })
    const summary = get("transactions.summary", {
      groupBy: "month",
      accountId: account,
      occurredFrom: "2000-01-01T00:00:00.000Z",
      occurredTo: "2100-01-01T00:00:00.000Z",
    })
    const system = (label: string, api: Server, request: HttpRequest): System => ({
      label,
      pids: [api.process.pid],
      run: (bounds) => httpLoad(api.base, httpConnections, bounds, () => request),
    })
    /** The load of `system` with a create for the same user every `writeEveryMs` meanwhile. */
    const whileWriting = (of: System): System => ({
      ...of,
      run: async (bounds) => {
        let writing = true
        const writer = (async () => {
          for (let i = 0; writing && i < bounds.durationMs / writeEveryMs; i++) {
            await call("transactions.create", {
              accountId: spare,
              direction: "credit",
              amount: 1,
              currency: "USD",
            })
            await sleep(writeEveryMs)
          }
        })()
        try {
          return await of.run(bounds)
        } finally {
          writing = false
          await writer
        }
      },
    })

    const [version] = (await monitor.query<{ server_version: string }>("show server_version")).rows
    console.log(
      `PostgreSQL ${version?.server_version} (${database.config.databaseUrl === undefined ? "embedded" : "DATABASE_URL's server"}). ` +
        `Three API processes, pools ${poolSize}, ${httpConnections} HTTP connections, an account of ${rows.toLocaleString("en")} rows. ` +
        `${options.rounds} rounds of ${options.seconds} s per system after 1 s of warm-up. ` +
        `${cpus().length} CPUs, load average ${loadavg()
          .map((n) => n.toFixed(2))
          .join(" ")}. Idle RSS of the default API ${mb(await rssOf(cached.process.pid))} MB.` +
        (loopback ? "" : " PostgreSQL is not on this machine: its CPU is not measured."),
    )

    const compare = async (name: string, title: string, on: System, off: System) => {
      const figures = await inRounds(monitor, loopback, [on, off], options)
      console.log(`\n${name}: ${title}`)
      printTable(figures, [
        { system: on },
        { system: off },
        { label: "with / without", over: on, under: off },
      ])
      const [a, b] = [pooledCpu(figures.get(on) ?? []), pooledCpu(figures.get(off) ?? [])]
      if (a !== undefined && b !== undefined)
        console.log(`  app CPU per request over all rounds: with / without ${(a / b).toFixed(2)}`)
    }

    await compare(
      "summary",
      `transactions.summary by month of an account of ${rows.toLocaleString("en")} rows`,
      system("summary cache", cached, summary),
      system("no summary cache", noSummaries, summary),
    )
    await compare(
      "summary-writes",
      `the same, while the user writes ${1000 / writeEveryMs} transactions/s elsewhere`,
      whileWriting(system("summary cache", cached, summary)),
      whileWriting(system("no summary cache", noSummaries, summary)),
    )
    const accountGet = get("accounts.get", { id: account })
    await compare(
      "account",
      "accounts.get of one account (the account itself is never cached)",
      system("API-key cache", cached, accountGet),
      system("no API-key cache", noKeys, accountGet),
    )
  } finally {
    await monitor.end().catch(() => undefined)
    for (const api of apis) await api.stop()
    await database.close()
  }
}
