import type { SummaryTotals } from "@txn/domain"

/** A summary and the snapshot (`pg_current_snapshot()`) of the statement that computed it. */
export interface CachedSummary {
  readonly snapshot: string
  readonly totals: ReadonlyArray<SummaryTotals>
}

/** Summaries of more groups than this (a year by day) are not kept. */
export const maxGroupsKept = 400

/**
 * Summaries held by one process, by user and query, the least recently used going first past
 * `maxEntries`. What makes an entry safe to serve is checked by its caller against the database
 * (`summaryChangedSince`), never assumed from time.
 */
export const makeSummaryCache = (maxEntries: number) => {
  const entries = new Map<string, CachedSummary>()
  return {
    get: (key: string) => {
      const entry = entries.get(key)
      if (entry !== undefined) {
        entries.delete(key)
        entries.set(key, entry)
      }
      return entry
    },
    set: (key: string, entry: CachedSummary) => {
      entries.delete(key)
      if (maxEntries === 0 || entry.totals.length > maxGroupsKept) return
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done !== true) entries.delete(oldest.value)
      }
      entries.set(key, entry)
    },
  }
}
