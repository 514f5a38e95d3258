/**
 * What the load scenarios measure and print alike: the systems under a load in alternating rounds,
 * each round's throughput, latency, CPU per request of the app's processes and of PostgreSQL,
 * resident memory and the load generator's own CPU, and a table of their ranges and ratios.
 */
import type pg from "pg"
import { cpuMsOf, percentile, rssOf } from "./harness.ts"
import type { Bounds, Sample } from "./load.ts"

export interface Figures {
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

export interface System {
  readonly label: string
  /** The app's processes, if the system has any of its own: their CPU and memory are summed. */
  readonly pids?: ReadonlyArray<number | undefined> | undefined
  readonly run: (bounds: Bounds) => Promise<Sample>
}

/** Each load stops after its seconds, or at this many requests. */
export const maxRequests = 500_000
export const warmUpMs = 1_000

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

const sumOf = async (
  pids: ReadonlyArray<number | undefined>,
  of: (pid: number | undefined) => Promise<number | undefined>,
) => {
  const values = await Promise.all(pids.map(of))
  return values.some((value) => value === undefined)
    ? undefined
    : values.reduce<number>((sum, value) => sum + value!, 0)
}

/**
 * One system's figures over `durationMs` of its load. PostgreSQL's CPU is read from /proc when
 * `loopback` (a server on this machine), through `monitor`, a connection to the bench database.
 */
export const measure = async (
  monitor: pg.Client,
  loopback: boolean,
  system: System,
  durationMs: number,
): Promise<Figures> => {
  const pids = system.pids ?? []
  const pgBefore = loopback ? await postgresCpu(monitor) : undefined
  const appBefore = await sumOf(pids, cpuMsOf)
  const clientBefore = process.cpuUsage()
  let peak = await sumOf(pids, rssOf)
  const sampler = setInterval(() => {
    void sumOf(pids, rssOf).then((rss) => {
      if (rss !== undefined) peak = Math.max(peak ?? 0, rss)
    })
  }, 100)
  const sample = await system.run({ durationMs, maxRequests })
  clearInterval(sampler)
  const client = process.cpuUsage(clientBefore)
  const appAfter = await sumOf(pids, cpuMsOf)
  const pgAfter = loopback ? await postgresCpu(monitor) : undefined
  const per = (ms: number | undefined) =>
    ms === undefined || sample.requests === 0 ? undefined : ms / sample.requests
  return {
    rps: sample.ok / sample.seconds,
    p50: percentile(sample.latencies, 50),
    p99: percentile(sample.latencies, 99),
    appCpu: per(
      pids.length === 0 || appBefore === undefined || appAfter === undefined
        ? undefined
        : appAfter - appBefore,
    ),
    pgCpu: per(
      pgBefore === undefined || pgAfter === undefined
        ? undefined
        : [...pgAfter].reduce((sum, [pid, ms]) => sum + ms - (pgBefore.get(pid) ?? 0), 0),
    ),
    rss: pids.length === 0 ? undefined : peak,
    clientCpu: (client.user + client.system) / 1000 / Math.max(1, sample.requests),
    requests: sample.requests,
    failures: sample.failures,
  }
}

/** How long each system runs per round, and how many rounds. */
export interface RoundOptions {
  readonly seconds: number
  readonly rounds: number
}

/**
 * Warms each system up for a second, then runs `rounds` rounds of `seconds` per system, the
 * systems in turn, the order reversed every other round.
 */
export const inRounds = async (
  monitor: pg.Client,
  loopback: boolean,
  systems: ReadonlyArray<System>,
  options: RoundOptions,
) => {
  const figures = new Map<System, Array<Figures>>(systems.map((system) => [system, []]))
  for (const system of systems) await system.run({ durationMs: warmUpMs, maxRequests })
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? systems : [...systems].reverse()
    for (const system of order) {
      figures.get(system)!.push(await measure(monitor, loopback, system, options.seconds * 1000))
    }
  }
  return figures as ReadonlyMap<System, ReadonlyArray<Figures>>
}

export const mb = (bytes: number | undefined) =>
  bytes === undefined ? "?" : String(Math.round(bytes / 1024 / 1024))

/** The range of a figure over the rounds, e.g. `518–561`; `—` where it was not measured. */
export const range = (values: ReadonlyArray<number | undefined>, digits: number) => {
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

/** A system's row, or the ratio of one system's figures over another's, round by round. */
export type Row =
  | { readonly system: System }
  | { readonly label: string; readonly over: System; readonly under: System }

/** Prints a Markdown table of `rows`, then each system's failed requests, if any. */
export const printTable = (
  figures: ReadonlyMap<System, ReadonlyArray<Figures>>,
  rows: ReadonlyArray<Row>,
) => {
  const of = (system: System) => figures.get(system) ?? []
  const cells = (row: Row) => {
    if ("system" in row) {
      return [
        row.system.label,
        ...columns.map((column) => range(of(row.system).map(column.of), column.digits)),
      ]
    }
    return [
      row.label,
      ...columns.map((column) =>
        column.title.startsWith("client")
          ? ""
          : range(
              of(row.over).map((figure, i) => {
                const a = column.of(figure)
                const under = of(row.under)[i]
                const b = under === undefined ? undefined : column.of(under)
                return a === undefined || b === undefined || b === 0 ? undefined : a / b
              }),
              2,
            ),
      ),
    ]
  }
  const table = [["system", ...columns.map((column) => column.title)], ...rows.map(cells)]
  const widths = table[0]!.map((_, i) => Math.max(...table.map((line) => line[i]!.length)))
  const line = (values: ReadonlyArray<string>) =>
    `| ${values.map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join(" | ")} |`
  console.log(line(table[0]!))
  console.log(
    `| ${widths.map((width, i) => (i === 0 ? "-".repeat(width) : `${"-".repeat(width - 1)}:`)).join(" | ")} |`,
  )
  for (const values of table.slice(1)) console.log(line(values))
  for (const system of figures.keys()) {
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

/**
 * A system's app CPU per request over all its rounds (its CPU divided by its requests): steadier
 * than the per-round figures, which scatter with the machine's noise.
 */
export const pooledCpu = (rounds: ReadonlyArray<Figures>) => {
  const known = rounds.filter((f) => f.appCpu !== undefined)
  const requests = known.reduce((sum, f) => sum + f.requests, 0)
  return known.length < rounds.length || requests === 0
    ? undefined
    : known.reduce((sum, f) => sum + f.appCpu! * f.requests, 0) / requests
}
