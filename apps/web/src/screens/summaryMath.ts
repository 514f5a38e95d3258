/**
 * Pure helpers of the Summary screen: its period (dates in UTC, as the API groups days and months
 * in UTC), the months it spans, and exact totals of minor units.
 */

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/

/** `date`'s calendar day in UTC, as `YYYY-MM-DD`. */
export const isoDate = (date: Date): string => date.toISOString().slice(0, 10)

/** Whether `text` is a real calendar date `YYYY-MM-DD` from year 1000 to 9999. */
export const isDateText = (text: string): boolean => {
  const match = datePattern.exec(text)
  if (match === null) return false
  const [, year = "", month = "", day = ""] = match
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  return (
    Number(year) >= 1000 &&
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day)
  )
}

/** The day `days` after the calendar date `date` (`YYYY-MM-DD`). */
export const addDays = (date: string, days: number): string => {
  const [year, month, day] = date.split("-").map(Number)
  return isoDate(new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, (day ?? 1) + days)))
}

/** The default period: the last 12 months, from the first of the month 11 months ago to today. */
export const defaultPeriod = (now: Date): { readonly from: string; readonly to: string } => ({
  from: isoDate(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1))),
  to: isoDate(now),
})

/**
 * The API's half-open range for the days `from` to `to`, both included (UTC), or what is wrong
 * with them.
 */
export const periodRange = (
  from: string,
  to: string,
): { readonly occurredFrom: string; readonly occurredTo: string } | { readonly error: string } => {
  if (!isDateText(from)) return { error: "Enter the first day of the period." }
  if (!isDateText(to)) return { error: "Enter the last day of the period." }
  if (to < from) return { error: "To must be on or after From." }
  const after = addDays(to, 1)
  if (!isDateText(after)) return { error: "Enter a last day before the year 10000." }
  return { occurredFrom: `${from}T00:00:00.000Z`, occurredTo: `${after}T00:00:00.000Z` }
}

/** Every month (`YYYY-MM`) that the days `from` to `to` touch, oldest first; at most `limit`. */
export const monthsBetween = (from: string, to: string, limit = 1200): ReadonlyArray<string> => {
  if (!isDateText(from) || !isDateText(to) || to < from) return []
  const months: Array<string> = []
  let year = Number(from.slice(0, 4))
  let month = Number(from.slice(5, 7))
  const last = to.slice(0, 7)
  for (;;) {
    const key = `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}`
    if (key > last || months.length >= limit) break
    months.push(key)
    month += 1
    if (month === 13) {
      month = 1
      year += 1
    }
  }
  return months
}

/** One group of a summary, as far as these helpers need it. */
export interface Totals {
  readonly key: string | null
  readonly credits: number
  readonly debits: number
}

/**
 * Credits and debits per key of `keys`, in that order: a key with no group has 0. Groups whose
 * key is not in `keys` are left out.
 */
export const alignTotals = (
  keys: ReadonlyArray<string>,
  groups: ReadonlyArray<Totals>,
): { readonly credits: Array<number>; readonly debits: Array<number> } => {
  const byKey = new Map(groups.map((group) => [group.key, group]))
  return {
    credits: keys.map((key) => byKey.get(key)?.credits ?? 0),
    debits: keys.map((key) => byKey.get(key)?.debits ?? 0),
  }
}

/** The exact sum of amounts in minor units. */
export const sumMinor = (amounts: Iterable<number>): bigint => {
  let total = 0n
  for (const amount of amounts) total += BigInt(amount)
  return total
}

/**
 * `value` minor units as `money` writes an amount (`12 345.67 USD`, thin spaces between thousands),
 * for any size: a total may outgrow a safe integer.
 */
export const formatMinorBig = (value: bigint, exponent: number, currency: string): string => {
  const sign = value < 0n ? "-" : ""
  const digits = (value < 0n ? -value : value).toString().padStart(exponent + 1, "0")
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent)
  const fraction = exponent === 0 ? "" : `.${digits.slice(-exponent)}`
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f")
  return `${sign}${grouped}${fraction} ${currency}`
}

/** A month key `2026-03` as the reader says it (`Mar 2026`). */
export const monthLabel = (key: string, locale?: string): string => {
  if (!/^\d{4}-\d{2}$/.test(key)) return key
  const date = new Date(Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)) - 1, 1))
  return new Intl.DateTimeFormat(locale, {
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  }).format(date)
}
