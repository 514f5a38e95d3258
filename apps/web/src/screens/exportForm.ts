/**
 * The Exports screen's pure parts: the form's values turned into `exports.create`'s filters, and
 * an export's progress as a `<progress>` shows it. No React, no DOM, no client: tested in Node.
 */

export const directions = ["credit", "debit"] as const
export const transactionStatuses = ["pending", "posted", "voided", "reversed"] as const

/** What the "New export" form holds, as typed (dates as `<input type="date">` gives them). */
export interface ExportFormValues {
  readonly accountId: string
  /** `YYYY-MM-DD` or "" */
  readonly from: string
  /** `YYYY-MM-DD` or "": the last day included. */
  readonly to: string
  readonly direction: "" | (typeof directions)[number]
  readonly status: "" | (typeof transactionStatuses)[number]
  readonly category: string
  readonly search: string
}

export const emptyExportForm: ExportFormValues = {
  accountId: "",
  from: "",
  to: "",
  direction: "",
  status: "",
  category: "",
  search: "",
}

/** The filters `exports.create` takes (the client's input, without the idempotency key). */
export interface ExportFilterInput {
  accountId?: string
  occurredFrom?: string
  occurredTo?: string
  direction?: (typeof directions)[number]
  status?: (typeof transactionStatuses)[number]
  category?: string
  search?: string
}

export type ExportFormResult =
  | { readonly ok: true; readonly input: ExportFilterInput }
  | { readonly ok: false; readonly field: keyof ExportFormValues; readonly problem: string }

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * Local midnight at the start of `date` (`YYYY-MM-DD`), as an ISO timestamp; `days` moves it
 * (1: the next day's midnight). Undefined for anything that is not a real date the API accepts
 * (years 1000 to 9999).
 */
export const localMidnight = (date: string, days = 0): string | undefined => {
  const m = dateOnly.exec(date)
  if (m === null) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const at = new Date(year, month - 1, day)
  // new Date rolls 2026-02-31 over into March: refuse it rather than export the wrong days.
  if (at.getFullYear() !== year || at.getMonth() !== month - 1 || at.getDate() !== day) {
    return undefined
  }
  at.setDate(at.getDate() + days)
  const utcYear = at.getUTCFullYear()
  if (utcYear < 1000 || utcYear > 9999) return undefined
  return at.toISOString()
}

/**
 * The form's values as `exports.create`'s filters: empty fields left out, "From" as the start
 * of that day and "To" as the end of that day (the API's `occurredTo` excludes its bound, so it
 * is the next day's midnight), both in the reader's time zone. Or the first problem, by field.
 */
export const exportInput = (values: ExportFormValues): ExportFormResult => {
  const input: ExportFilterInput = {}
  if (values.accountId !== "") input.accountId = values.accountId
  if (values.from !== "") {
    const from = localMidnight(values.from)
    if (from === undefined) {
      return { ok: false, field: "from", problem: "From: enter a date between 1000 and 9999." }
    }
    input.occurredFrom = from
  }
  if (values.to !== "") {
    const to = localMidnight(values.to, 1)
    if (to === undefined) {
      return { ok: false, field: "to", problem: "To: enter a date between 1000 and 9999." }
    }
    input.occurredTo = to
  }
  if (
    input.occurredFrom !== undefined &&
    input.occurredTo !== undefined &&
    Date.parse(input.occurredTo) <= Date.parse(input.occurredFrom)
  ) {
    return { ok: false, field: "to", problem: "To: choose a day on or after From." }
  }
  if (values.direction !== "") input.direction = values.direction
  if (values.status !== "") input.status = values.status
  const category = values.category.trim()
  if (category.length > 100) {
    return { ok: false, field: "category", problem: "Category: at most 100 characters." }
  }
  if (category !== "") input.category = category
  const search = values.search.trim()
  if (search.length > 200) {
    return { ok: false, field: "search", problem: "Search: at most 200 characters." }
  }
  if (search !== "") input.search = search
  return { ok: true, input }
}

/** The parts of an export its progress is read from. */
export interface ExportState {
  readonly status: "queued" | "running" | "completed" | "failed"
  readonly totalRows: number | null
  readonly rowsWritten: number
  readonly progress: number
}

/** Whether the export will change no more: polling stops. */
export const isSettled = (status: ExportState["status"]) =>
  status === "completed" || status === "failed"

/**
 * What a `<progress>` shows: rows written of the total once the build has counted them, the
 * API's `progress` fraction when the total is 0, nothing (indeterminate) while queued or not
 * counted yet, full once completed.
 */
export const progressOf = (
  exp: ExportState,
): { readonly value: number; readonly max: number } | undefined => {
  if (exp.status === "completed") {
    const total = Math.max(exp.totalRows ?? exp.rowsWritten, 1)
    return { value: total, max: total }
  }
  if (exp.totalRows === null) {
    return exp.status === "failed" ? { value: 0, max: 1 } : undefined
  }
  if (exp.status === "queued") return undefined
  if (exp.totalRows <= 0) return { value: Math.min(Math.max(exp.progress, 0), 1), max: 1 }
  return { value: Math.min(exp.rowsWritten, exp.totalRows), max: exp.totalRows }
}

const count = new Intl.NumberFormat("en-US")
const grouped = (n: number) => count.format(n).replace(/,/g, "\u202f")

/** "419 000 of 1 000 000", or just the rows written while the total is not known. */
export const rowsLabel = (exp: ExportState) =>
  exp.totalRows === null || exp.status === "queued"
    ? grouped(exp.rowsWritten)
    : `${grouped(exp.rowsWritten)} of ${grouped(exp.totalRows)}`

/** The filters of an export as one line, accounts by name where `accountName` knows them. */
export const filtersLabel = (
  filters: ExportFilterInput & { readonly minAmount?: number; readonly maxAmount?: number },
  accountName: (id: string) => string | undefined = () => undefined,
  day: (iso: string) => string = (iso) => iso.slice(0, 10),
): string => {
  const parts: Array<string> = [
    filters.accountId === undefined
      ? "All accounts"
      : (accountName(filters.accountId) ?? filters.accountId),
  ]
  if (filters.occurredFrom !== undefined) parts.push(`from ${day(filters.occurredFrom)}`)
  if (filters.occurredTo !== undefined) {
    // occurredTo excludes its bound: the last day in the file is the one before it.
    const last = Date.parse(filters.occurredTo) - 1
    parts.push(`to ${Number.isNaN(last) ? filters.occurredTo : day(new Date(last).toISOString())}`)
  }
  if (filters.direction !== undefined) parts.push(`${filters.direction}s`)
  if (filters.status !== undefined) parts.push(filters.status)
  if (filters.category !== undefined) parts.push(`category “${filters.category}”`)
  if (filters.minAmount !== undefined) parts.push(`≥ ${filters.minAmount} minor units`)
  if (filters.maxAmount !== undefined) parts.push(`≤ ${filters.maxAmount} minor units`)
  if (filters.search !== undefined) parts.push(`matching “${filters.search}”`)
  return parts.join(", ")
}
