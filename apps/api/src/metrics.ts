import * as Effect from "effect/Effect"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as SqlClient from "effect/sql/SqlClient"
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  type OpenMetricsContentType,
  Registry,
} from "prom-client"

/** Which door a request came through: tRPC, REST, or the rest (health, docs, dashboard). */
export type MetricDoor = "trpc" | "rest" | "other"

export interface ApiMetricsOptions {
  /** tRPC's procedure paths (`accounts.list`), the only names a tRPC route may have. */
  readonly procedures: ReadonlyArray<string>
  /** REST's path templates (`/v1/accounts/{id}`), the only names a REST route may have. */
  readonly restPaths: ReadonlyArray<string>
  /** This process's connections to PostgreSQL by state, read when scraped. */
  readonly databaseConnections?: () => Promise<
    ReadonlyArray<{ readonly state: string; readonly connections: number }>
  >
}

/** Latency buckets in seconds: from a cached read to the request timeout. */
const latencyBuckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Paths outside /trpc and /v1 that are routes of their own; every other is `unmatched`. */
const otherRoutes = new Set(["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])

/**
 * The API's Prometheus metrics, in a registry of their own: requests by door, route and status
 * with their latency, rate-limit refusals, this process's database connections, and Node's own
 * (memory, CPU, event loop, GC). Routes are procedure names and path templates, never raw paths,
 * so an id or a scanner's guesses cannot grow the number of series.
 */
export const makeApiMetrics = (options: ApiMetricsOptions) => {
  // OpenMetrics, for its exemplars: each series' latest request id, as its logs and spans carry it.
  const registry = new Registry<OpenMetricsContentType>()
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
  collectDefaultMetrics({ register: registry })
  const requests = new Counter({
    name: "txn_http_requests_total",
    help: "Requests answered, by door, route (tRPC procedure or REST path template) and status",
    labelNames: ["door", "route", "status"] as const,
    registers: [registry],
    enableExemplars: true,
  })
  const latency = new Histogram({
    name: "txn_http_request_duration_seconds",
    help: "Time from a request's arrival to its answer's last byte, by door and route",
    labelNames: ["door", "route"] as const,
    buckets: latencyBuckets,
    registers: [registry],
    enableExemplars: true,
  })
  const refusals = new Counter({
    name: "txn_rate_limit_refusals_total",
    help: "Requests refused by the rate limit (429), by door",
    labelNames: ["door"] as const,
    registers: [registry],
  })
  const connections = options.databaseConnections
  new Gauge({
    name: "txn_db_pool_connections",
    help: "This process's connections to PostgreSQL by state (total, active, idle, idle in transaction), as pg_stat_activity lists them when scraped",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      this.reset()
      if (connections === undefined) return
      const states = await connections().catch(() => undefined)
      if (states === undefined) return
      let total = 0
      for (const { state, connections: count } of states) {
        this.set({ state }, count)
        total += count
      }
      this.set({ state: "total" }, total)
    },
  })

  const procedures = new Set(options.procedures)
  // Templates with fewer parameters first, so /v1/transactions/live wins over /v1/transactions/{id}.
  const restRoutes = options.restPaths
    .map((template) => ({
      template,
      parameters: (template.match(/\{[^}]+\}/g) ?? []).length,
      pattern: new RegExp(
        `^${template
          .split(/\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))
          .join("[^/]+")}/?$`,
      ),
    }))
    .sort((a, b) => a.parameters - b.parameters)

  /** The door and route a path is counted under. */
  const routeOf = (path: string): { door: MetricDoor; route: string } => {
    if (path.startsWith("/trpc/")) {
      const names = path.slice("/trpc/".length).replace(/\/$/, "").split(",")
      if (names.length > 1) return { door: "trpc", route: "batch" }
      const name = names[0] ?? ""
      return { door: "trpc", route: procedures.has(name) ? name : "unmatched" }
    }
    if (path.startsWith("/v1/")) {
      const found = restRoutes.find((route) => route.pattern.test(path))
      return { door: "rest", route: found?.template ?? "unmatched" }
    }
    if (path === "/app" || path.startsWith("/app/")) return { door: "other", route: "/app" }
    return { door: "other", route: otherRoutes.has(path) ? path : "unmatched" }
  }

  return {
    registry,
    /** Counts one answered (or abandoned, 499) request, its id the exemplar. */
    observe: (path: string, status: number, seconds: number, requestId: string) => {
      const { door, route } = routeOf(path)
      // prom-client types an exemplar's labels as the metric's own; request_id is the exemplar's alone.
      const exemplarLabels = { request_id: requestId } as LabelValues<string>
      requests.inc({ labels: { door, route, status: String(status) }, value: 1, exemplarLabels })
      latency.observe({ labels: { door, route }, value: seconds, exemplarLabels })
      if (status === 429) refusals.inc({ door })
    },
    /** The exposition text and its content type. */
    scrape: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  }
}

export type ApiMetrics = ReturnType<typeof makeApiMetrics>

/**
 * The connections named `applicationName` by state (`active`, `idle`, `idle in transaction`...),
 * as `pg_stat_activity` lists them: this process's, when the name carries its pid. The one
 * asking counts as active.
 */
export const databaseConnectionsOf =
  (runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>, applicationName: string) =>
  () =>
    runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly state: string; readonly connections: number }>`
          select coalesce(state, 'unknown') as state, count(*)::int as connections
          from pg_stat_activity
          where application_name = ${applicationName}
          group by 1`,
      ).pipe(Effect.orDie),
    )
