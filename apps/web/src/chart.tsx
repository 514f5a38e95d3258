import { formatMinorUnits } from "@txn/client"
import { useEffect, useRef, useState, useSyncExternalStore } from "react"
import uPlot from "uplot"
import "uplot/dist/uPlot.min.css"
import "./chart.css"
import { axisLabel, minorUnitIncrs } from "./chartFormat.ts"

/** The page's colours (styles.css variables), read when the chart is drawn. */
export interface ChartTheme {
  readonly fg: string
  readonly muted: string
  readonly line: string
  readonly accent: string
  readonly good: string
  readonly bad: string
  readonly font: string
}

const readTheme = (): ChartTheme => {
  const style = getComputedStyle(document.documentElement)
  const color = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback
  return {
    fg: color("--fg", "#1a1d21"),
    muted: color("--muted", "#555b63"),
    line: color("--line", "#d6d9de"),
    accent: color("--accent", "#1f5fbf"),
    good: color("--good", "#176b35"),
    bad: color("--bad", "#a61b1b"),
    font: `12px ${style.fontFamily || "system-ui, sans-serif"}`,
  }
}

const darkQuery = "(prefers-color-scheme: dark)"

const subscribeScheme = (onChange: () => void) => {
  const media = window.matchMedia(darkQuery)
  media.addEventListener("change", onChange)
  return () => media.removeEventListener("change", onChange)
}

/** Whether the page is dark now: the chart is drawn again in the other colours when it flips. */
const useDark = () =>
  useSyncExternalStore(
    subscribeScheme,
    () => window.matchMedia(darkQuery).matches,
    () => false,
  )

/** Axis defaults in the page's colours; `extra` overrides any of them. */
export const themedAxis = (theme: ChartTheme, extra: uPlot.Axis = {}): uPlot.Axis => ({
  stroke: theme.fg,
  font: theme.font,
  grid: { stroke: theme.line, width: 1 },
  ticks: { stroke: theme.line, width: 1 },
  ...extra,
})

/** The value axis of amounts in `currency`, labelled in its major unit, ticks on whole minor units. */
export const moneyAxis = (theme: ChartTheme, currency: string): uPlot.Axis =>
  themedAxis(theme, {
    incrs: [...minorUnitIncrs],
    size: 64,
    values: (_self, splits) =>
      splits.map((value) => axisLabel(formatMinorUnits(Math.round(value), currency))),
  })

export interface LegendItem {
  readonly label: string
  readonly tone: "accent" | "good" | "bad"
}

export interface ChartProps {
  /** The accessible summary of what the chart shows (the canvas is `role="img"`). */
  readonly label: string
  readonly data: uPlot.AlignedData
  /** The chart's options but its size; called again when the data or the colours change. */
  readonly options: (theme: ChartTheme) => Omit<uPlot.Options, "width" | "height">
  /** The series' colours and names, shown under the chart. */
  readonly legend?: ReadonlyArray<LegendItem>
  /** What the point under the pointer holds, in words (shown under the chart). */
  readonly readout?: (index: number) => string
  readonly height?: number
}

const minWidth = 240

/**
 * A uPlot chart as wide as its container: drawn in the page's colours, drawn again when the data
 * or the colour scheme changes, resized with its container, destroyed on unmount.
 */
export const Chart = (props: ChartProps) => {
  const { data, height = 240 } = props
  const box = useRef<HTMLDivElement>(null)
  // The latest callbacks, without drawing again when only their identity changed.
  const latest = useRef(props)
  latest.current = props
  const dark = useDark()
  const [theme, setTheme] = useState<ChartTheme | undefined>()
  const [hover, setHover] = useState<number | null>(null)

  useEffect(() => {
    // Read after the scheme flipped (the variables follow it); `dark` is the trigger.
    void dark
    setTheme(readTheme())
  }, [dark])

  useEffect(() => {
    const element = box.current
    if (element === null || theme === undefined) return
    const widthOf = () => Math.max(minWidth, Math.floor(element.clientWidth))
    const options = latest.current.options(theme)
    const plot = new uPlot(
      {
        ...options,
        width: widthOf(),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, ...options.cursor },
        hooks: {
          ...options.hooks,
          setCursor: [
            ...(options.hooks?.setCursor ?? []),
            (self) => setHover(self.cursor.idx ?? null),
          ],
        },
      },
      data,
      element,
    )
    let width = widthOf()
    const observer = new ResizeObserver(() => {
      const next = widthOf()
      if (next !== width) {
        width = next
        plot.setSize({ width, height })
      }
    })
    observer.observe(element)
    return () => {
      observer.disconnect()
      plot.destroy()
      setHover(null)
    }
  }, [data, theme, height])

  const { legend, readout, label } = props
  return (
    <div className="chart">
      <div ref={box} className="chart-canvas" role="img" aria-label={label} />
      {legend === undefined || theme === undefined ? null : (
        <ul className="chart-legend">
          {legend.map((item) => (
            <li key={item.label}>
              <span
                className="chart-swatch"
                style={{ background: theme[item.tone] }}
                aria-hidden="true"
              />
              {item.label}
            </li>
          ))}
        </ul>
      )}
      {readout === undefined ? null : (
        <p className="chart-readout hint">
          {hover === null ? "Point at the chart to read its figures." : readout(hover)}
        </p>
      )}
    </div>
  )
}

export { uPlot }
