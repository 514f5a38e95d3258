import { exponentOf, parseMajorUnits, type RouterInputs, type Transaction } from "@txn/client"

/**
 * The Transactions screen's filters, between the URL's query (`?accountId=acc_…&status=posted`),
 * the filter form and the input of `transactions.list`. Pure: no React, no DOM but `Date`.
 */

/** What `transactions.list` takes. */
export type ListInput = Extract<RouterInputs["transactions"]["list"], object>
export type TransactionStatus = Transaction["status"]
export type Direction = Transaction["direction"]

export const statuses: ReadonlyArray<TransactionStatus> = [
  "pending",
  "posted",
  "voided",
  "reversed",
]
export const directions: ReadonlyArray<Direction> = ["credit", "debit"]

/**
 * The filters as the URL holds them, "" for none: ids and words as given, amounts as the
 * major-unit text a person typed (converted once the currency is known), times as ISO 8601 with
 * an offset.
 */
export interface TransactionFilters {
  readonly accountId: string
  readonly status: "" | TransactionStatus
  readonly direction: "" | Direction
  readonly category: string
  /** Inclusive lower bound on occurredAt. */
  readonly occurredFrom: string
  /** Exclusive upper bound on occurredAt. */
  readonly occurredTo: string
  readonly minAmount: string
  readonly maxAmount: string
  readonly search: string
}

export const noFilters: TransactionFilters = {
  accountId: "",
  status: "",
  direction: "",
  category: "",
  occurredFrom: "",
  occurredTo: "",
  minAmount: "",
  maxAmount: "",
  search: "",
}

/** The URL's parameters, in the order they are written. */
export const filterKeys: ReadonlyArray<keyof TransactionFilters> = [
  "accountId",
  "status",
  "direction",
  "category",
  "occurredFrom",
  "occurredTo",
  "minAmount",
  "maxAmount",
  "search",
]

/** How each filter is named on screen, for notes about it. */
export const filterLabels: Readonly<Record<keyof TransactionFilters, string>> = {
  accountId: "Account",
  status: "Status",
  direction: "Direction",
  category: "Category",
  occurredFrom: "From",
  occurredTo: "To",
  minAmount: "Min amount",
  maxAmount: "Max amount",
  search: "Search",
}

/** The limits `transactions.list` checks, checked here first so a bad link is not a refusal. */
const maxCategoryLength = 100
const maxSearchLength = 200
const maxAmountTextLength = 40

const accountIdPattern = /^acc_[0-9a-z]{26}$/
const transactionIdPattern = /^txn_[0-9a-z]{26}$/

export const isAccountId = (s: string) => accountIdPattern.test(s)
export const isTransactionId = (s: string) => transactionIdPattern.test(s)

const zoned =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|[+-](\d{2}):(\d{2}))$/
const local = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** Whether the parts name a real calendar date and time (no 31 February, no 25:00). */
const realDate = (parts: ReadonlyArray<string | undefined>) => {
  const [year, month, day, hour = "0", minute = "0", second = "0"] = parts.map((p) => p ?? "0")
  const y = Number(year)
  const m = Number(month)
  const d = Number(day)
  const calendar = new Date(Date.UTC(y, m - 1, d))
  return (
    y >= 1000 &&
    y <= 9999 &&
    calendar.getUTCFullYear() === y &&
    calendar.getUTCMonth() === m - 1 &&
    calendar.getUTCDate() === d &&
    Number(hour) < 24 &&
    Number(minute) < 60 &&
    Number(second) < 60
  )
}

/** An instant as the API writes one: UTC, milliseconds, `Z`; undefined outside years 1000-9999. */
const isoOf = (millis: number): string | undefined => {
  if (!Number.isFinite(millis)) return undefined
  const iso = new Date(millis).toISOString()
  return /^\d{4}-/.test(iso) && iso >= "1000-01-01" ? iso : undefined
}

/**
 * A time from the URL as an ISO 8601 instant with an offset: one with an offset as given
 * (normalized to UTC), a date or date-time without one in the reader's time zone. Undefined when
 * it is not a real time.
 */
export const parseTime = (text: string): string | undefined => {
  const value = text.trim()
  const z = zoned.exec(value)
  if (z !== null) {
    const [, year, month, day, hour, minute, second, fraction, offH, offM] = z
    if (!realDate(z.slice(1, 7)) || Number(offH ?? 0) > 15 || Number(offM ?? 0) > 59) {
      return undefined
    }
    const sign = value.endsWith("Z") ? 0 : value.at(-6) === "-" ? -1 : 1
    const millis =
      Date.UTC(
        Number(year),
        Number(month) - 1,
        Number(day),
        Number(hour),
        Number(minute),
        Number(second ?? 0),
        Number((fraction ?? "").padEnd(3, "0")),
      ) -
      sign * (Number(offH ?? 0) * 60 + Number(offM ?? 0)) * 60_000
    return isoOf(millis)
  }
  return fromLocalInput(value)
}

/**
 * A `datetime-local` (or `date`) input's value, a time in the reader's time zone, as an ISO
 * instant; undefined for "" or anything that is not a real local time.
 */
export const fromLocalInput = (value: string): string | undefined => {
  const m = local.exec(value.trim())
  if (m === null || !realDate(m.slice(1, 7))) return undefined
  const [, year, month, day, hour, minute, second, fraction] = m
  const date = new Date(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour ?? 0),
    Number(minute ?? 0),
    Number(second ?? 0),
    Number((fraction ?? "").padEnd(3, "0")),
  )
  // Years 0-99 are taken as 1900-1999 by the Date constructor; realDate has refused them.
  return isoOf(date.getTime())
}

/**
 * An ISO instant as a `datetime-local` input shows it, in the reader's time zone: minutes, and
 * seconds or milliseconds only when it has them (so the input gives back the same instant).
 */
export const toLocalInput = (iso: string): string => {
  if (iso === "") return ""
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ""
  const base = `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`
  const seconds = date.getSeconds()
  const millis = date.getMilliseconds()
  if (millis !== 0) return `${base}:${pad(seconds)}.${pad(millis, 3)}`
  return seconds !== 0 ? `${base}:${pad(seconds)}` : base
}

const pick = <T extends string>(options: ReadonlyArray<T>, value: string): T | undefined =>
  options.find((option) => option === value)

/** What the URL's query says: the filters, the selected transaction, and what was left out. */
export interface ReadFilters {
  readonly filters: TransactionFilters
  readonly selected: string | undefined
  /** One sentence per value that was dropped, to show next to the filters. */
  readonly notes: ReadonlyArray<string>
}

/**
 * The filters and selection in a URL query (with or without its `?`). A value that cannot be a
 * filter (an unknown status, a malformed id or time, text too long) is dropped with a note;
 * unknown parameters are ignored. Never throws.
 */
export const readFilters = (query: string): ReadFilters => {
  let params: URLSearchParams
  try {
    params = new URLSearchParams(query.startsWith("?") ? query.slice(1) : query)
  } catch {
    params = new URLSearchParams()
  }
  const notes: Array<string> = []
  const drop = (key: keyof TransactionFilters, value: string, why: string) => {
    notes.push(`${filterLabels[key]} "${shorten(value)}" ignored: ${why}.`)
  }
  const filters: { -readonly [K in keyof TransactionFilters]: TransactionFilters[K] } = {
    ...noFilters,
  }
  for (const key of filterKeys) {
    const raw = params.get(key)
    if (raw === null || raw.trim() === "") continue
    switch (key) {
      case "accountId":
        if (isAccountId(raw.trim())) filters.accountId = raw.trim()
        else drop(key, raw, "not an account id")
        break
      case "status": {
        const status = pick(statuses, raw.trim().toLowerCase())
        if (status !== undefined) filters.status = status
        else drop(key, raw, `expected one of ${statuses.join(", ")}`)
        break
      }
      case "direction": {
        const direction = pick(directions, raw.trim().toLowerCase())
        if (direction !== undefined) filters.direction = direction
        else drop(key, raw, `expected one of ${directions.join(", ")}`)
        break
      }
      case "category":
        if (!raw.isWellFormed() || raw.includes("\u0000")) drop(key, raw, "not plain text")
        else if (raw.length > maxCategoryLength)
          drop(key, raw, `longer than ${maxCategoryLength} characters`)
        else filters.category = raw
        break
      case "search":
        if (!raw.isWellFormed() || raw.includes("\u0000")) drop(key, raw, "not plain text")
        else if (raw.length > maxSearchLength)
          drop(key, raw, `longer than ${maxSearchLength} characters`)
        else filters.search = raw
        break
      case "occurredFrom":
      case "occurredTo": {
        const time = parseTime(raw)
        if (time !== undefined) filters[key] = time
        else drop(key, raw, "not a date and time")
        break
      }
      case "minAmount":
      case "maxAmount":
        // Checked against the currency in toListInput, once it is known.
        if (raw.length > maxAmountTextLength) drop(key, raw, "too long to be an amount")
        else filters[key] = raw.trim()
        break
    }
  }
  const selectedRaw = params.get("selected")
  let selected: string | undefined
  if (selectedRaw !== null && selectedRaw !== "") {
    if (isTransactionId(selectedRaw)) selected = selectedRaw
    else notes.push(`Selected transaction "${shorten(selectedRaw)}" ignored: not a transaction id.`)
  }
  return { filters, selected, notes }
}

const shorten = (s: string) => (s.length > 40 ? `${s.slice(0, 39)}…` : s)

/**
 * The URL query (without `?`) for these filters and selection: only the filters that are set,
 * always in the same order, so a link reads the same however it was made.
 */
export const writeFilters = (filters: TransactionFilters, selected?: string): string => {
  const params = new URLSearchParams()
  for (const key of filterKeys) {
    const value = filters[key]
    if (value !== "") params.set(key, value)
  }
  if (selected !== undefined && selected !== "") params.set("selected", selected)
  return params.toString()
}

export const sameFilters = (a: TransactionFilters, b: TransactionFilters) =>
  filterKeys.every((key) => a[key] === b[key])

/** The currency the amount filters are typed in: the chosen account's, else USD. */
export const filterCurrency = (
  accountId: string,
  accounts: ReadonlyArray<{ readonly id: string; readonly currency: string }> | undefined,
): string => accounts?.find((account) => account.id === accountId)?.currency ?? "USD"

/** The filters as `transactions.list`'s input, and why any of them was left out. */
export interface ListFilters {
  readonly input: Omit<ListInput, "limit" | "cursor">
  readonly notes: ReadonlyArray<string>
}

/**
 * The input of `transactions.list` for these filters, amounts converted exactly from major units
 * of `currency` into minor units. An amount that is not one in that currency (too many decimals,
 * negative, not a number) is left out with a note.
 */
export const toListInput = (filters: TransactionFilters, currency: string): ListFilters => {
  const notes: Array<string> = []
  const input: { -readonly [K in keyof ListInput]: ListInput[K] } = {}
  if (filters.accountId !== "") input.accountId = filters.accountId
  if (filters.status !== "") input.status = filters.status
  if (filters.direction !== "") input.direction = filters.direction
  if (filters.category !== "") input.category = filters.category
  if (filters.occurredFrom !== "") input.occurredFrom = filters.occurredFrom
  if (filters.occurredTo !== "") input.occurredTo = filters.occurredTo
  const search = filters.search.trim()
  if (search !== "") input.search = search
  for (const key of ["minAmount", "maxAmount"] as const) {
    const text = filters[key]
    if (text === "") continue
    const minor = parseMajorUnits(text, currency)
    if (minor === undefined) {
      notes.push(
        `${filterLabels[key]} "${shorten(text)}" ignored: not an amount in ${currency}${decimalsHint(currency)}.`,
      )
    } else if (minor < 0) {
      notes.push(`${filterLabels[key]} "${shorten(text)}" ignored: amounts are never negative.`)
    } else {
      input[key] = minor
    }
  }
  if (
    input.minAmount !== undefined &&
    input.maxAmount !== undefined &&
    input.minAmount > input.maxAmount
  ) {
    notes.push("Min amount is above Max amount: no transaction can match.")
  }
  if (
    input.occurredFrom !== undefined &&
    input.occurredTo !== undefined &&
    Date.parse(input.occurredFrom) >= Date.parse(input.occurredTo)
  ) {
    notes.push("To is not after From: no transaction can match.")
  }
  return { input, notes }
}

/** ", such as 12.34 (at most 2 decimals)" for USD, ", a whole number such as 12" for JPY. */
export const decimalsHint = (currency: string): string => {
  const exponent = exponentOf(currency)
  if (exponent === undefined) return ""
  if (exponent === 0) return ", a whole number such as 12"
  return `, such as 12.${"3456789".slice(0, exponent)} (at most ${exponent} decimals)`
}

/**
 * Whether a transaction is one `transactions.list` would give for this input (the cursor and
 * limit aside): the same conditions, checked here for rows that arrive live.
 */
export const matchesFilters = (
  transaction: Transaction,
  input: Omit<ListInput, "limit" | "cursor">,
): boolean => {
  if (input.accountId !== undefined && transaction.accountId !== input.accountId) return false
  if (input.status !== undefined && transaction.status !== input.status) return false
  if (input.direction !== undefined && transaction.direction !== input.direction) return false
  if (input.category !== undefined && transaction.category !== input.category) return false
  const at = Date.parse(transaction.occurredAt)
  if (input.occurredFrom !== undefined && at < Date.parse(input.occurredFrom)) return false
  if (input.occurredTo !== undefined && at >= Date.parse(input.occurredTo)) return false
  if (input.minAmount !== undefined && transaction.amount < input.minAmount) return false
  if (input.maxAmount !== undefined && transaction.amount > input.maxAmount) return false
  if (input.search !== undefined) {
    const text = [transaction.description, transaction.counterparty, transaction.reference]
      .map((part) => part ?? "")
      .join(" ")
      .toLowerCase()
    if (!text.includes(input.search.toLowerCase())) return false
  }
  return true
}
