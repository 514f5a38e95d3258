import { useVirtualizer } from "@tanstack/react-virtual"
import type { Transaction } from "@txn/client"
import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react"
import { money, when } from "../format.ts"

/** A row's height in pixels (fixed: every cell is one line). */
const rowHeight = 40
/** Fetch the next page once the last rendered row is this close to the end of what is loaded. */
const prefetchRows = 30

/** An amount as the account sees it: a debit takes money out, so it is shown negative. */
export const signedMoney = (transaction: Transaction) =>
  money(
    transaction.direction === "debit" ? -transaction.amount : transaction.amount,
    transaction.currency,
  )

/** `posted` as `Posted`. */
export const capitalized = (word: string) => word.charAt(0).toUpperCase() + word.slice(1)

export const statusLabel = (status: Transaction["status"]) => capitalized(status)

const columns = ["Date", "Description", "Account", "Category", "Status", "Amount"] as const

/**
 * The transactions as an ARIA table, virtualized: only the rows in view (and a few around them)
 * are in the DOM, however many are loaded. Scrolling near the end asks for the next page. Each
 * row opens its transaction on click or Enter; the arrow keys move between rows.
 */
export const TransactionTable = (props: {
  readonly rows: ReadonlyArray<Transaction>
  readonly accountName: (accountId: string) => string
  readonly newIds: ReadonlySet<string>
  readonly selected: string | undefined
  readonly onOpen: (id: string) => void
  readonly hasMore: boolean
  readonly loadingMore: boolean
  readonly onNearEnd: () => void
}) => {
  const { rows, hasMore, loadingMore, onNearEnd } = props
  const scroller = useRef<HTMLDivElement>(null)
  const [focused, setFocused] = useState(0)
  const [focusWanted, setFocusWanted] = useState(false)
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 8,
    getItemKey: (index) => rows[index]?.id ?? index,
    useFlushSync: false,
  })
  const items = virtualizer.getVirtualItems()
  const lastIndex = items.at(-1)?.index ?? -1

  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= rows.length - prefetchRows) onNearEnd()
  }, [hasMore, loadingMore, lastIndex, rows.length, onNearEnd])

  // Keep the row that takes Tab within the rows there are.
  const current = Math.min(focused, Math.max(rows.length - 1, 0))

  // Focus the row the arrow keys moved to, once the virtualizer has rendered it.
  useEffect(() => {
    if (!focusWanted) return
    const row = scroller.current?.querySelector<HTMLElement>(`[data-index="${current}"]`)
    if (row !== null && row !== undefined) {
      row.focus({ preventScroll: false })
      setFocusWanted(false)
    }
  })

  const moveTo = (index: number) => {
    const next = Math.max(0, Math.min(rows.length - 1, index))
    setFocused(next)
    setFocusWanted(true)
    virtualizer.scrollToIndex(next, { align: "auto" })
  }

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>, index: number, id: string) => {
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / rowHeight) - 1)
    switch (event.key) {
      case "Enter":
      case " ":
        event.preventDefault()
        props.onOpen(id)
        return
      case "ArrowDown":
        event.preventDefault()
        moveTo(index + 1)
        return
      case "ArrowUp":
        event.preventDefault()
        moveTo(index - 1)
        return
      case "PageDown":
        event.preventDefault()
        moveTo(index + page)
        return
      case "PageUp":
        event.preventDefault()
        moveTo(index - page)
        return
      case "Home":
        event.preventDefault()
        moveTo(0)
        return
      case "End":
        event.preventDefault()
        moveTo(rows.length - 1)
        return
    }
  }

  // The ARIA table roles stand for <table> elements throughout: a virtualized body places its
  // rows absolutely, which the table layout of <table>, <tr> and <td> does not allow.
  return (
    // biome-ignore lint/a11y/useSemanticElements: a virtualized table (see above)
    <div
      role="table"
      aria-label="Transactions"
      aria-rowcount={rows.length + 1}
      aria-describedby="transactions-table-help"
      className="txn-table"
    >
      {/* biome-ignore lint/a11y/useSemanticElements: a virtualized table (see above) */}
      <div role="rowgroup" className="txn-head">
        {/* biome-ignore lint/a11y/useSemanticElements: a virtualized table (see above) */}
        {/* biome-ignore lint/a11y/useFocusableInteractive: the header row is not interactive */}
        <div role="row" aria-rowindex={1} className="txn-row">
          {columns.map((column) => (
            // biome-ignore lint/a11y/useSemanticElements: a virtualized table (see above)
            // biome-ignore lint/a11y/useFocusableInteractive: a header is not interactive
            <div
              key={column}
              role="columnheader"
              className={column === "Amount" ? "txn-cell amount" : "txn-cell"}
            >
              {column}
            </div>
          ))}
        </div>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a virtualized table (see above) */}
      <div role="rowgroup" ref={scroller} className="txn-body">
        <div className="txn-spacer" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const row = rows[item.index]
            if (row === undefined) return null
            const isNew = props.newIds.has(row.id)
            const isSelected = props.selected === row.id
            const classes = ["txn-row", isNew ? "live-new" : "", isSelected ? "selected" : ""]
            return (
              // biome-ignore lint/a11y/useSemanticElements: a virtualized table (see above)
              <div
                key={item.key}
                role="row"
                aria-rowindex={item.index + 2}
                aria-current={isSelected ? "true" : undefined}
                data-index={item.index}
                data-id={row.id}
                tabIndex={item.index === current ? 0 : -1}
                className={classes.filter((c) => c !== "").join(" ")}
                style={{ transform: `translateY(${item.start}px)`, height: rowHeight }}
                onClick={() => {
                  setFocused(item.index)
                  props.onOpen(row.id)
                }}
                onFocus={() => setFocused(item.index)}
                onKeyDown={(event) => onKeyDown(event, item.index, row.id)}
              >
                <Cell>{when(row.occurredAt)}</Cell>
                <Cell className="description">
                  {isNew ? <span className="badge txn-new-badge">New</span> : null}
                  <span className="txn-text">{row.description ?? "—"}</span>
                </Cell>
                <Cell>{props.accountName(row.accountId)}</Cell>
                <Cell>{row.category ?? "—"}</Cell>
                <Cell>{statusLabel(row.status)}</Cell>
                <Cell className="amount">{signedMoney(row)}</Cell>
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}

const Cell = (props: { readonly className?: string; readonly children: ReactNode }) => (
  // biome-ignore lint/a11y/useSemanticElements: a virtualized table (see TransactionTable)
  <div
    role="cell"
    className={props.className === undefined ? "txn-cell" : `txn-cell ${props.className}`}
  >
    {props.children}
  </div>
)
