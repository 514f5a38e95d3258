/**
 * Pure helpers for the charts' axes: amounts stay whole minor units on the canvas, and their tick
 * labels come from the exact decimal text `formatMinorUnits` gives (no floating-point division).
 */

/** Tick steps in whole minor units: 1, 2, 5, 10, 20, 50, … up to 5·10^15 (all exact). */
export const minorUnitIncrs: ReadonlyArray<number> = Array.from({ length: 16 }, (_, power) =>
  [1, 2, 5].map((step) => step * 10 ** power),
).flat()

/** Tick steps for an axis of indexes (categories, months): whole numbers only. */
export const indexIncrs: ReadonlyArray<number> = [1, 2, 3, 4, 5, 6, 10, 12, 20, 24, 50, 100]

const units: ReadonlyArray<readonly [digits: number, suffix: string]> = [
  [12, "T"],
  [9, "B"],
  [6, "M"],
  [3, "k"],
]

/**
 * A major-unit decimal (`"-1234567.00"`, as `formatMinorUnits` writes it) shortened for an axis:
 * `"-1.2M"`, `"12k"`, `"5k"`, `"950"`, `"0.05"`. Digits are cut, not rounded, which for the round
 * figures an axis ticks at loses nothing.
 */
export const axisLabel = (decimal: string): string => {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal)
  if (match === null) return decimal
  const [, sign = "", whole = "", fraction = ""] = match
  const trimmedFraction = fraction.replace(/0+$/, "")
  const zero = /^0*$/.test(whole) && trimmedFraction === ""
  if (zero) return "0"
  for (const [digits, suffix] of units) {
    if (whole.length > digits) {
      const head = whole.slice(0, whole.length - digits)
      const next = whole.slice(whole.length - digits, whole.length - digits + 1)
      const tenth = head.length < 3 && next !== "0" ? `.${next}` : ""
      return `${sign}${head}${tenth}${suffix}`
    }
  }
  return `${sign}${whole}${trimmedFraction === "" ? "" : `.${trimmedFraction}`}`
}

/** A label cut to `max` characters with an ellipsis, for a crowded axis. */
export const shortLabel = (text: string, max = 14): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`
