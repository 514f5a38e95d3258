import { exponentOf, type SummaryGroup } from "@txn/client"
import { useCallback, useMemo } from "react"
import { Chart, type ChartTheme, moneyAxis, themedAxis, uPlot } from "../chart.tsx"
import { indexIncrs, shortLabel } from "../chartFormat.ts"
import { money } from "../format.ts"
import { alignTotals, formatMinorBig, monthLabel, sumMinor } from "./summaryMath.ts"
import "./Summary.css"

/** An exact total of minor units as `money` writes it, however large. */
export const moneyTotal = (total: bigint, currency: string) =>
  formatMinorBig(total, exponentOf(currency) ?? 2, currency)

export const keyText = (groupBy: "category" | "month", key: string | null) =>
  key === null ? "Uncategorised" : groupBy === "month" ? monthLabel(key) : key

export const GroupChart = (props: {
  readonly groupBy: "category" | "month"
  readonly groups: ReadonlyArray<SummaryGroup>
  readonly months?: ReadonlyArray<string> | undefined
}) => {
  const { groupBy, groups, months } = props
  // One currency on one axis: the first (the filter asks for one, so there is only one).
  const currency = groups[0]?.currency ?? "USD"
  const chart = useMemo(() => {
    const own = groups.filter((group) => group.currency === currency)
    const monthKeys =
      groupBy === "month" && months !== undefined && months.length > 0
        ? [
            ...new Set([
              ...months,
              ...own.flatMap((group) => (group.key === null ? [] : [group.key])),
            ]),
          ].sort()
        : undefined
    const keys: ReadonlyArray<string | null> = monthKeys ?? own.map((group) => group.key)
    const aligned =
      monthKeys === undefined
        ? {
            credits: own.map((group) => group.credits),
            debits: own.map((group) => group.debits),
          }
        : alignTotals(monthKeys, own)
    return {
      labels: keys.map((key) => keyText(groupBy, key)),
      credits: aligned.credits,
      debits: aligned.debits,
      data: [keys.map((_, index) => index), aligned.credits, aligned.debits] as uPlot.AlignedData,
    }
  }, [groups, months, groupBy, currency])

  const options = useCallback(
    (theme: ChartTheme): Omit<uPlot.Options, "width" | "height"> => {
      const count = chart.labels.length
      const bars = (align: -1 | 1) => uPlot.paths.bars!({ size: [0.36, 48, 2], align })
      return {
        scales: {
          x: { time: false, range: () => [-0.5, Math.max(count, 1) - 0.5] },
          y: {
            range: (_self, _min, max) => (max <= 0 ? [0, 100] : uPlot.rangeNum(0, max, 0.1, true)),
          },
        },
        axes: [
          themedAxis(theme, {
            incrs: [...indexIncrs],
            space: groupBy === "month" ? 64 : 90,
            grid: { show: false },
            values: (_self, splits) =>
              splits.map((index) => shortLabel(chart.labels[index] ?? "", 14)),
          }),
          moneyAxis(theme, currency),
        ],
        series: [
          {},
          {
            label: "Credits",
            stroke: theme.good,
            fill: theme.good,
            width: 0,
            paths: bars(-1),
            points: { show: false },
          },
          {
            label: "Debits",
            stroke: theme.bad,
            fill: theme.bad,
            width: 0,
            paths: bars(1),
            points: { show: false },
          },
        ],
        cursor: { points: { show: false } },
      }
    },
    [chart, groupBy, currency],
  )

  const readout = useCallback(
    (index: number) => {
      const label = chart.labels[index]
      const credits = chart.credits[index]
      const debits = chart.debits[index]
      if (label === undefined || credits === undefined || debits === undefined) return ""
      return `${label}: ${money(credits, currency)} in credits, ${money(debits, currency)} in debits`
    },
    [chart, currency],
  )

  const totalCredits = moneyTotal(sumMinor(chart.credits), currency)
  const totalDebits = moneyTotal(sumMinor(chart.debits), currency)
  const first = chart.labels[0]
  const last = chart.labels.at(-1)
  const label =
    groupBy === "month"
      ? `Credits and debits by month from ${first} to ${last}: ${totalCredits} in credits, ${totalDebits} in debits in all`
      : `Credits and debits by category, ${chart.labels.length} ${chart.labels.length === 1 ? "category" : "categories"}: ${totalCredits} in credits, ${totalDebits} in debits in all`
  const caption =
    groupBy === "month" ? "Credits and debits by month" : "Credits and debits by category"
  return (
    <figure className="chart-figure">
      <figcaption>{caption}</figcaption>
      <Chart
        label={label}
        data={chart.data}
        options={options}
        readout={readout}
        legend={[
          { label: "Credits", tone: "good" },
          { label: "Debits", tone: "bad" },
        ]}
      />
    </figure>
  )
}
