import { readFileSync } from "node:fs"
import { parser } from "@prometheus-io/lezer-promql"
import { describe, expect, it } from "vitest"

/**
 * The metrics the API (apps/api/src/metrics.ts) and the worker (apps/worker/src/metrics.ts)
 * expose, as the dashboard names them: a histogram by its `_bucket` series.
 */
const metrics = [
  "txn_http_requests_total",
  "txn_http_request_duration_seconds_bucket",
  "txn_rate_limit_refusals_total",
  "txn_db_pool_connections",
  "process_resident_memory_bytes",
  "process_cpu_seconds_total",
  "nodejs_eventloop_lag_p99_seconds",
  "txn_jobs_total",
  "txn_job_duration_seconds_bucket",
  "txn_queue_jobs",
  "txn_outbox_lag_seconds",
  "txn_webhook_deliveries_total",
]

type DataSource = { type: string; uid: string }
type Target = { refId: string; expr: string; datasource?: DataSource }
type Panel = {
  id: number
  type: string
  title: string
  gridPos: { x: number; y: number; w: number; h: number }
  datasource?: DataSource
  targets?: Target[]
  panels?: Panel[]
}
type Dashboard = {
  schemaVersion: number
  uid: string
  title: string
  templating: { list: { name: string; type: string; query: string }[] }
  panels: Panel[]
}

const dashboard = JSON.parse(
  readFileSync(new URL("../../../deploy/grafana/txn-dashboard.json", import.meta.url), "utf8"),
) as Dashboard
// A collapsed row carries its panels inside it.
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])])
const queryPanels = panels.filter((panel) => panel.type !== "row")
const queries = queryPanels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, target })),
)

/**
 * The metric names an expression selects, and the places it does not parse, by Prometheus' own
 * PromQL grammar: function names, label names and strings are never taken for metrics.
 */
const selectedMetrics = (expr: string) => {
  // Grafana's interval variables stand where PromQL has a duration.
  const promql = expr.replaceAll(/\$__(rate_interval|interval|range)\b/g, "5m")
  const names: string[] = []
  const errors: string[] = []
  parser.parse(promql).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`${JSON.stringify(promql.slice(node.from))}`)
      if (node.name === "VectorSelector") {
        const name = node.node.getChild("Identifier")
        names.push(name === null ? "(no name)" : promql.slice(name.from, name.to))
      }
    },
  })
  return { names, errors }
}

describe("deploy/grafana/txn-dashboard.json", () => {
  it("is a schema 39 dashboard that asks which Prometheus to read", () => {
    expect(dashboard.schemaVersion).toBe(39)
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/)
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", query: "prometheus" }),
    )
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, kept as is
    const fromVariable = { type: "prometheus", uid: "${DS_PROMETHEUS}" }
    expect(queries.length).toBeGreaterThan(0)
    for (const { panel, target } of queries) {
      expect(panel.datasource, panel.title).toEqual(fromVariable)
      expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(fromVariable)
    }
  })

  it("gives each panel its own id, and each query its own refId in its panel", () => {
    const ids = panels.map((panel) => panel.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const panel of queryPanels) {
      const refIds = (panel.targets ?? []).map((target) => target.refId)
      expect(new Set(refIds).size, panel.title).toBe(refIds.length)
    }
  })

  it("lays the panels out on the 24-column grid without overlaps", () => {
    const overlaps = panels.flatMap((a, i) =>
      panels
        .slice(i + 1)
        .flatMap((b) =>
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h
            ? [`${a.title} / ${b.title}`]
            : [],
        ),
    )
    expect(overlaps).toEqual([])
    expect(panels.filter((panel) => panel.gridPos.x + panel.gridPos.w > 24)).toEqual([])
  })

  it("queries in valid PromQL only the metrics the API and the worker expose", () => {
    const problems = queries.flatMap(({ panel, target }) => {
      const { names, errors } = selectedMetrics(target.expr)
      return [
        ...errors.map((at) => `${panel.title} ${target.refId}: does not parse at ${at}`),
        ...names
          .filter((name) => !metrics.includes(name))
          .map((name) => `${panel.title} ${target.refId}: ${name}`),
      ]
    })
    expect(problems).toEqual([])
  })

  it("shows every metric the API and the worker expose", () => {
    const shown = new Set(queries.flatMap(({ target }) => selectedMetrics(target.expr).names))
    expect(metrics.filter((name) => !shown.has(name))).toEqual([])
  })

  it("tells metrics from functions, labels and strings, and finds what does not parse", () => {
    expect(
      selectedMetrics(
        'histogram_quantile(0.99, sum by (le, job) (rate(txn_job_duration_seconds_bucket{queue="rate"}[$__rate_interval])))',
      ),
    ).toEqual({ names: ["txn_job_duration_seconds_bucket"], errors: [] })
    const relabelled =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: PromQL's capture group reference
      'label_replace(up, "class", "${1}xx", "status", "(.)..") and on (instance) txn_queue_jobs'
    expect(selectedMetrics(relabelled).names).toEqual(["up", "txn_queue_jobs"])
    expect(selectedMetrics('{__name__="txn_jobs_total"}').names).toEqual(["(no name)"])
    expect(selectedMetrics("sum(rate(txn_jobs_total[5m])").errors).not.toEqual([])
  })
})
