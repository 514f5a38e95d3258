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
import { createHash } from "node:crypto"
import { cpus, loadavg } from "node:os"
import pg from "pg"
import {
  benchUser,
  cpuMsOf,
  openBenchDatabase,
  percentile,
  rssOf,
  type Server,
  startApi,
  startServer,
} from "./harness.ts"
import { type Bounds, type HttpRequest, httpLoad, type Sample, sqlLoad } from "./load.ts"
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
const warmUpMs = 1_000
const maxRequests = 500_000
const currency = "USD"
const funding = 1_000_000_000_000

interface Figures {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly appCpu: number | undefined
  readonly pgCpu: number | undefined
  readonly rss: number | undefined
  readonly clientCpu: number
  readonly requests: number
  readonly failures: Readonly<Record<string, number>>
}

interface System {
  readonly label: string
  /** The app's process, if the system has one of its own. */
  readonly pid?: number | undefined
  readonly run: (bounds: Bounds) => Promise<Sample>
}

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

const randomAmount = () => 1 + Math.floor(Math.random() * 1_000)
const randomDirection = () => (Math.random() < 0.5 ? "credit" : "debit")

const loadNames = [...listSizes.map((rows) => `list-${rows / 1000}k`), "create", "create-hot"]

export const run = async (options: ThroughputOptions) => {
  const unknown = options.loads?.filter((name) => !loadNames.includes(name)) ?? []
  if (unknown.length > 0) {
    throw new Error(`Unknown load ${unknown.join(", ")}; known: ${loadNames.join(", ")}`)
  }
  const setupStarted = performance.now()
  const database = await openBenchDatabase()
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(new URL(database.url).hostname)
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
    const call = async (path: string, input: unknown) => {
      const response = await fetch(`${apiBase}/trpc/${path}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(input),
      })
      const body = (await response.json()) as { result?: { data: { id: string } } }
      if (!response.ok || body.result === undefined)
        throw new Error(`${path} answered ${response.status}: ${JSON.stringify(body)}`)
      return body.result.data
    }

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
    await seedLists(monitor, userId, listed)
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
        pid: apiPid,
        run: (bounds) =>
          httpLoad(apiBase, httpConnections, bounds, () => ({
            method: "POST",
            path: "/trpc/transactions.create",
            headers: auth,
            body: JSON.stringify({
              idempotencyKey: `bench-${key++}`,
              accountId: pick(),
              direction: randomDirection(),
              amount: randomAmount(),
              currency,
              description: "Card payment",
            }),
          })),
      },
      rest: {
        label: "API, REST",
        pid: apiPid,
        run: (bounds) =>
          httpLoad(apiBase, httpConnections, bounds, () => ({
            method: "POST",
            path: "/v1/transactions",
            headers: { ...auth, "idempotency-key": `bench-${key++}` },
            body: JSON.stringify({
              accountId: pick(),
              direction: randomDirection(),
              amount: randomAmount(),
              currency,
              description: "Card payment",
            }),
          })),
      },
      plain: {
        label: "plain endpoint",
        pid: plainPid,
        run: (bounds) =>
          httpLoad(plainBase, httpConnections, bounds, () => ({
            method: "POST",
            path: "/transactions",
            body: JSON.stringify({
              accountId: pick(),
              direction: randomDirection(),
              amount: randomAmount(),
              currency,
              description: "Card payment",
            }),
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
          pid: apiPid,
          run: (bounds) => httpLoad(apiBase, httpConnections, bounds, () => apiList),
        },
        rest: {
          label: "API, REST",
          pid: apiPid,
          run: (bounds) => httpLoad(apiBase, httpConnections, bounds, () => restList),
        },
        plain: {
          label: "plain endpoint",
          pid: plainPid,
          run: (bounds) => httpLoad(plainBase, httpConnections, bounds, () => plainList),
        },
        sql: [
          {
            label: "SQL: the API's page query",
            run: (bounds) =>
              sqlLoad(clients, bounds, (client) =>
                client.query({
                  name: "api-page",
                  text: apiPageQuery,
                  values: [userId, accountId, pageSize + 1],
                }),
              ),
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

    const measure = async (system: System, durationMs: number): Promise<Figures> => {
      const pgBefore = loopback ? await postgresCpu(monitor) : undefined
      const appBefore = await cpuMsOf(system.pid)
      const clientBefore = process.cpuUsage()
      let peak = await rssOf(system.pid)
      const sampler = setInterval(() => {
        void rssOf(system.pid).then((rss) => {
          if (rss !== undefined) peak = Math.max(peak ?? 0, rss)
        })
      }, 100)
      const sample = await system.run({ durationMs, maxRequests })
      clearInterval(sampler)
      const client = process.cpuUsage(clientBefore)
      const appAfter = await cpuMsOf(system.pid)
      const pgAfter = loopback ? await postgresCpu(monitor) : undefined
      const per = (ms: number | undefined) =>
        ms === undefined || sample.requests === 0 ? undefined : ms / sample.requests
      return {
        rps: sample.ok / sample.seconds,
        p50: percentile(sample.latencies, 50),
        p99: percentile(sample.latencies, 99),
        appCpu: per(
          appBefore === undefined || appAfter === undefined ? undefined : appAfter - appBefore,
        ),
        pgCpu: per(
          pgBefore === undefined || pgAfter === undefined
            ? undefined
            : [...pgAfter].reduce((sum, [pid, ms]) => sum + ms - (pgBefore.get(pid) ?? 0), 0),
        ),
        rss: system.pid === undefined ? undefined : peak,
        clientCpu: (client.user + client.system) / 1000 / Math.max(1, sample.requests),
        requests: sample.requests,
        failures: sample.failures,
      }
    }

    for (const load of loads) {
      const systems = [load.api, load.rest, load.plain, ...load.sql]
      const figures = new Map<System, Array<Figures>>(systems.map((system) => [system, []]))
      for (const system of systems) await system.run({ durationMs: warmUpMs, maxRequests })
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? systems : [...systems].reverse()
        for (const system of order) {
          figures.get(system)!.push(await measure(system, options.seconds * 1000))
        }
      }
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

/**
 * CPU ms so far of each process of the server that works for the bench database: its backends
 * (but the one asking) and the server's background processes (WAL writer, checkpointer, ...).
 */
const postgresCpu = async (monitor: pg.Client) => {
  const { rows } = await monitor.query<{ pid: number }>(
    `select pid from pg_stat_activity
      where (datname = current_database() or datname is null) and pid <> pg_backend_pid()`,
  )
  const cpu = new Map<number, number>()
  for (const { pid } of rows) {
    const ms = await cpuMsOf(pid)
    if (ms !== undefined) cpu.set(pid, ms)
  }
  return cpu
}

/**
 * `rows` posted credits on each account of `accountIds` in turn (10,000 on the first, ...), spread
 * over the time before now, with their ledger entries and balances: one statement per account.
 * No history events: a list page does not read them.
 */
const seedLists = async (client: pg.Client, userId: string, accountIds: ReadonlyArray<string>) => {
  for (const [i, accountId] of accountIds.entries()) {
    await client.query(
      `with inserted as (
         insert into transactions
           (id, user_id, account_id, direction, amount, currency, status, description,
            occurred_at, created_at, updated_at)
         select 'txn_seed' || lpad($3::text, 2, '0') || lpad(n::text, 20, '0'), $1, $2, 'credit',
                1 + n % 10000, $5, 'posted', 'Card payment ' || n % 997,
                now() - n * interval '10 minutes', now(), now()
           from generate_series(1, $4::int) n
         returning id, amount, created_at
       ), entries as (
         insert into ledger_entries
           (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
         select $2, id, amount, 0, 0, created_at from inserted
       )
       update accounts set posted_balance = posted_balance + (select sum(amount) from inserted)
        where id = $2`,
      [userId, accountId, i, listSizes[i], currency],
    )
  }
}

const apiPageQuery = `
  select id, account_id, user_id, direction, amount, currency, status, description, category,
         counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
         reversed_by, transfer_id, created_at, updated_at
    from transactions where user_id = $1 and account_id = $2
   order by occurred_at desc, id desc limit $3`

/**
 * What the API sends for one create with a key: its one statement (packages/db
 * src/transactions/write.ts, `createStatement`), sent on its own, so its own database transaction.
 * The key goes in with its answer (if the user has the account in that currency), the balance
 * changes only if the key went in, and the row, its `created` event (whose trigger writes the
 * outbox event) and the ledger entry follow from the balance update; the table's checks refuse a
 * debit beyond the funds. The event's changes, the answer and the request's hash are made here, as
 * the API makes them.
 */
const apiWrite = `
  with claim as (
    insert into idempotency_keys (user_id, key, operation, request_hash, response, created_at, expires_at)
    select $3, $11, 'transactions.create', $12, $13::jsonb, $9::timestamptz,
           $9::timestamptz + '7 days'::interval
     where exists (select 1 from accounts where id = $2 and user_id = $3 and currency = $6)
    on conflict (user_id, key) do update
       set operation = excluded.operation, request_hash = excluded.request_hash,
           response = excluded.response, created_at = excluded.created_at,
           expires_at = excluded.expires_at
     where idempotency_keys.expires_at <= excluded.created_at
    returning key
  ), balance as (
    update accounts a
       set posted_balance = a.posted_balance + $7::bigint,
           pending_credits = a.pending_credits + 0::bigint,
           pending_debits = a.pending_debits + 0::bigint
      from claim
     where a.id = $2 and a.user_id = $3 and a.currency = $6
    returning a.id
  ), inserted as (
    insert into transactions
      (id, account_id, user_id, direction, amount, currency, status, description, category,
       counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
       reversed_by, transfer_id, created_at, updated_at)
    select $1, balance.id, $3, $4, $5::bigint, $6, 'posted', $8, null, null, null,
           $9::timestamptz, null, '{}'::jsonb, 1, null, null, null, $9::timestamptz,
           $9::timestamptz
      from balance
    returning id, account_id, user_id, direction, amount, currency, status, description, category,
              counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
              reversed_by, transfer_id, created_at, updated_at
  ), event as (
    insert into transaction_events (transaction_id, user_id, version, kind, actor, changes, at)
    select id, user_id, version, 'created', $10, $14::jsonb, created_at from inserted
  ), entry as (
    insert into ledger_entries
      (account_id, transaction_id, posted_delta, pending_credits_delta, pending_debits_delta, recorded_at)
    select account_id, id, $7::bigint, 0, 0, created_at from inserted
  )
  select id, account_id, user_id, direction, amount, currency, status, description, category,
              counterparty, reference, occurred_at, expires_at, metadata, version, reversal_of,
              reversed_by, transfer_id, created_at, updated_at from inserted`

const apiWriteInOneStatement = async (
  client: pg.Client,
  userId: string,
  actor: string,
  accountId: string,
  idempotencyKey: string,
) => {
  const direction = randomDirection()
  const amount = randomAmount()
  const now = new Date().toISOString()
  const transaction = {
    id: newId(),
    accountId,
    userId,
    direction,
    amount,
    currency,
    status: "posted",
    description: "Card payment",
    category: null,
    counterparty: null,
    reference: null,
    occurredAt: now,
    expiresAt: null,
    metadata: {},
    version: 1,
    reversalOf: null,
    reversedBy: null,
    transferId: null,
    createdAt: now,
    updatedAt: now,
  }
  const request = JSON.stringify({ accountId, direction, amount, currency, idempotencyKey })
  const changes = Object.fromEntries(
    Object.entries(transaction).map(([field, value]) => [field, { from: null, to: value }]),
  )
  const { rowCount } = await client.query({
    name: "api-write",
    text: apiWrite,
    values: [
      transaction.id,
      accountId,
      userId,
      direction,
      amount,
      currency,
      direction === "credit" ? amount : -amount,
      transaction.description,
      now,
      actor,
      idempotencyKey,
      createHash("sha256").update(request).digest("hex"),
      JSON.stringify(transaction),
      JSON.stringify(changes),
    ],
  })
  if (rowCount !== 1) throw new Error(`refused on ${accountId}`)
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

const mb = (bytes: number | undefined) =>
  bytes === undefined ? "?" : String(Math.round(bytes / 1024 / 1024))

/** The range of a figure over the rounds, e.g. `518–561`; `—` where it was not measured. */
const range = (values: ReadonlyArray<number | undefined>, digits: number) => {
  const known = values.filter(
    (value): value is number => value !== undefined && Number.isFinite(value),
  )
  if (known.length === 0 || known.length < values.length) return "—"
  const text = (value: number) =>
    value.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits })
  const low = text(Math.min(...known))
  const high = text(Math.max(...known))
  return low === high ? low : `${low}–${high}`
}

const columns = [
  { title: "req/s", digits: 0, of: (f: Figures) => f.rps },
  { title: "p50 ms", digits: 2, of: (f: Figures) => f.p50 },
  { title: "p99 ms", digits: 2, of: (f: Figures) => f.p99 },
  { title: "app CPU ms/req", digits: 2, of: (f: Figures) => f.appCpu },
  { title: "PostgreSQL CPU ms/req", digits: 2, of: (f: Figures) => f.pgCpu },
  {
    title: "app peak RSS MB",
    digits: 0,
    of: (f: Figures) => (f.rss === undefined ? undefined : f.rss / 1024 / 1024),
  },
  { title: "client CPU ms/req", digits: 2, of: (f: Figures) => f.clientCpu },
] as const

const printTable = (load: Load, figures: ReadonlyMap<System, ReadonlyArray<Figures>>) => {
  const of = (system: System) => figures.get(system) ?? []
  const row = (system: System) => [
    system.label,
    ...columns.map((column) => range(of(system).map(column.of), column.digits)),
  ]
  // Round by round: each round of `over` against the round of `under` next to it.
  const ratio = (label: string, over: System, under: System) => [
    label,
    ...columns.map((column) =>
      column.title.startsWith("client")
        ? ""
        : range(
            of(over).map((figure, i) => {
              const a = column.of(figure)
              const b = of(under)[i] === undefined ? undefined : column.of(of(under)[i]!)
              return a === undefined || b === undefined || b === 0 ? undefined : a / b
            }),
            2,
          ),
    ),
  ]
  const table = [
    ["system", ...columns.map((column) => column.title)],
    row(load.api),
    row(load.plain),
    ratio("API / plain", load.api, load.plain),
    row(load.rest),
    ratio("REST / tRPC", load.rest, load.api),
    ...load.sql.map(row),
  ]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`
  console.log(line(table[0]!))
  console.log(
    `| ${widths.map((width, i) => (i === 0 ? "-".repeat(width) : `${"-".repeat(width - 1)}:`)).join(" | ")} |`,
  )
  for (const cells of table.slice(1)) console.log(line(cells))
  // Per-round ratios scatter with the machine's noise; over all rounds, each side's CPU
  // divided by its requests is the steadier figure.
  const pooledCpu = (system: System) => {
    const rounds = of(system).filter((f) => f.appCpu !== undefined)
    const requests = rounds.reduce((sum, f) => sum + f.requests, 0)
    return rounds.length < of(system).length || requests === 0
      ? undefined
      : rounds.reduce((sum, f) => sum + f.appCpu! * f.requests, 0) / requests
  }
  const pooled = (over: System, under: System) => {
    const [a, b] = [pooledCpu(over), pooledCpu(under)]
    return a === undefined || b === undefined ? "—" : (a / b).toFixed(2)
  }
  console.log(
    `  app CPU per request over all rounds: API / plain ${pooled(load.api, load.plain)}, REST / tRPC ${pooled(load.rest, load.api)}`,
  )
  for (const system of [load.api, load.rest, load.plain, ...load.sql]) {
    const failed: Record<string, number> = {}
    let requests = 0
    for (const f of of(system)) {
      requests += f.requests
      for (const [status, count] of Object.entries(f.failures))
        failed[status] = (failed[status] ?? 0) + count
    }
    if (Object.keys(failed).length > 0)
      console.log(`  ${system.label}: of ${requests} requests, failed: ${JSON.stringify(failed)}`)
  }
}
