import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query"
import type { Transaction } from "@txn/client"
import { useCallback, useEffect, useMemo, useRef, useState } from "react"
import { useLocation, useSearch } from "wouter"
import { describeError } from "../errors.ts"
import { useTxn } from "../txn.tsx"
import { type LiveEvent, LiveFetchQueue } from "./liveFetchQueue.ts"
import { TransactionDetail } from "./TransactionDetail.tsx"
import { TransactionFilterForm } from "./TransactionFilterForm.tsx"
import { NewTransactionForm, TransferForm } from "./TransactionForms.tsx"
import { TransactionTable } from "./TransactionTable.tsx"
import { listKey, replaceInLists, type TransactionPage, useAccounts } from "./transactionData.ts"
import {
  filterCurrency,
  matchesFilters,
  readFilters,
  type TransactionFilters,
  toListInput,
  writeFilters,
} from "./transactionFilters.ts"
import { type LiveState, useLiveChanges } from "./transactionLive.ts"
import "./Transactions.css"

/** Rows per page of `transactions.list`. */
const pageSize = 100
/** Live changes whose transactions are fetched at once. */
const liveFetchConcurrency = 4
/** Live changes waiting beyond this are a burst: the list is offered again instead. */
const liveMaxPending = 50

const liveLabels: Readonly<Record<LiveState, string>> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
}

/**
 * The Transactions screen: filters kept in the URL, the list (virtualized, a page at a time,
 * with live changes on top), the selected transaction's details and actions, and the forms for a
 * new transaction and a transfer.
 */
export default function Transactions() {
  const txn = useTxn()
  const queries = useQueryClient()
  const [, navigate] = useLocation()
  // wouter decodes the query with decodeURI, which would turn `%25` into a bare `%`: read the
  // address bar's own query, re-read whenever wouter says it changed.
  const search = useSearch()
  const query = useMemo(() => (search === "" ? "" : window.location.search), [search])
  const read = useMemo(() => readFilters(query), [query])
  const { filters, selected } = read

  const accounts = useAccounts()
  const accountList = accounts.data ?? []
  const accountNames = useMemo(
    () => new Map((accounts.data ?? []).map((account) => [account.id, account.name])),
    [accounts.data],
  )
  const accountName = useCallback(
    (accountId: string) => accountNames.get(accountId) ?? accountId,
    [accountNames],
  )

  const currency = filterCurrency(filters.accountId, accounts.data)
  const listFilters = useMemo(() => toListInput(filters, currency), [filters, currency])
  const input = listFilters.input
  // Amounts are in the chosen account's currency: wait for the accounts before converting them.
  const waitingForCurrency =
    filters.accountId !== "" &&
    (filters.minAmount !== "" || filters.maxAmount !== "") &&
    accounts.isPending
  const unknownAccount =
    filters.accountId !== "" && accounts.isSuccess && !accountNames.has(filters.accountId)
  const notes = [
    ...read.notes,
    ...(waitingForCurrency ? [] : listFilters.notes),
    ...(unknownAccount ? [`Account ${filters.accountId} is not one of the accounts listed.`] : []),
  ]

  const list = useInfiniteQuery({
    queryKey: [...listKey, input],
    queryFn: ({ pageParam, signal }): Promise<TransactionPage> =>
      txn.transactions.list.query(
        { ...input, limit: pageSize, ...(pageParam === undefined ? {} : { cursor: pageParam }) },
        { signal },
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.hasMore ? (last.nextCursor ?? undefined) : undefined),
    enabled: !waitingForCurrency,
  })

  const pageRows = useMemo(() => list.data?.pages.flatMap((page) => page.items) ?? [], [list.data])
  const pageIds = useMemo(() => new Set(pageRows.map((row) => row.id)), [pageRows])

  // Live rows: changes that match the filters, on top of the pages, newest first.
  const [liveRows, setLiveRows] = useState<ReadonlyArray<Transaction>>([])
  const [newIds, setNewIds] = useState<ReadonlySet<string>>(() => new Set())
  const latest = useRef({ liveRows, pageIds, input, ingest: (_: Transaction, __: boolean) => {} })
  useEffect(() => {
    latest.current = { liveRows, pageIds, input, ingest }
  })

  // Other filters, other rows: the new list brings what matches them.
  const inputKey = JSON.stringify(input)
  useEffect(() => {
    void inputKey
    latest.current.liveRows = []
    setLiveRows([])
  }, [inputKey])

  /**
   * A transaction as it is now (from a live change or an action here): replaces its row where it
   * is shown, or, when it matches the filters and is not shown, goes on top. It is marked New
   * when it goes on top, and when it was just created: a transaction created while other filters
   * were set is still new once the list shows it.
   */
  const ingest = useCallback(
    (transaction: Transaction, created: boolean) => {
      replaceInLists(queries, transaction)
      // Lists cached for other filters may now lack it: fetched again when next shown.
      if (created) void queries.invalidateQueries({ queryKey: listKey, refetchType: "none" })
      const markNew = () => setNewIds((ids) => new Set(ids).add(transaction.id))
      const { liveRows: rows, pageIds: shown, input: current } = latest.current
      const at = rows.findIndex((row) => row.id === transaction.id)
      const existing = rows[at]
      if (existing !== undefined) {
        if (existing.version > transaction.version) return
        const next = rows.slice()
        next[at] = transaction
        latest.current.liveRows = next
        setLiveRows(next)
        return
      }
      if (shown.has(transaction.id) || !matchesFilters(transaction, current)) {
        if (created) markNew()
        return
      }
      const next = [transaction, ...rows]
      latest.current.liveRows = next
      setLiveRows(next)
      markNew()
    },
    [queries],
  )
  const changed = useCallback((transaction: Transaction) => ingest(transaction, false), [ingest])
  const created = useCallback((transaction: Transaction) => ingest(transaction, true), [ingest])

  // Each live change's transaction, fetched a few at a time; a burst is offered as a reload.
  const [burst, setBurst] = useState(0)
  const fetcher = useRef<LiveFetchQueue<Transaction> | undefined>(undefined)
  useEffect(() => {
    const queue = new LiveFetchQueue<Transaction>({
      fetch: (change) => txn.transactions.get.query({ id: change.transactionId }),
      onRow: (transaction, change) => latest.current.ingest(transaction, change.kind === "created"),
      onBurst: setBurst,
      concurrency: liveFetchConcurrency,
      maxPending: liveMaxPending,
    })
    fetcher.current = queue
    return () => queue.stop()
  }, [txn])
  const onLiveChange = useCallback((change: LiveEvent) => fetcher.current?.push(change), [])
  const showBurst = useCallback(() => {
    fetcher.current?.clearBurst()
    setBurst(0)
    latest.current.liveRows = []
    setLiveRows([])
    void queries.invalidateQueries({ queryKey: listKey, refetchType: "none" })
    void queries.resetQueries({ queryKey: [...listKey, latest.current.input] })
  }, [queries])
  const live = useLiveChanges(
    filters.accountId === "" ? undefined : filters.accountId,
    onLiveChange,
  )

  const rows = useMemo(() => {
    if (liveRows.length === 0) return pageRows
    const onTop = new Set(liveRows.map((row) => row.id))
    return [...liveRows, ...pageRows.filter((row) => !onTop.has(row.id))]
  }, [liveRows, pageRows])

  const setFilters = useCallback(
    (next: TransactionFilters) => {
      const query = writeFilters(next, selected)
      navigate(query === "" ? "" : `?${query}`, { replace: true })
    },
    [navigate, selected],
  )

  const open = useCallback(
    (id: string) => {
      setNewIds((ids) => {
        if (!ids.has(id)) return ids
        const next = new Set(ids)
        next.delete(id)
        return next
      })
      if (id !== selected) navigate(`?${writeFilters(filters, id)}`)
    },
    [filters, selected, navigate],
  )

  const close = useCallback(() => {
    const query = writeFilters(filters)
    navigate(query === "" ? "" : `?${query}`)
  }, [filters, navigate])

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage()
  }, [hasNextPage, isFetchingNextPage, fetchNextPage])

  const latestVersion =
    selected === undefined ? undefined : rows.find((row) => row.id === selected)?.version

  return (
    <div className="txn-screen">
      <h1>Transactions</h1>
      <TransactionFilterForm
        filters={filters}
        accounts={accountList}
        currency={currency}
        notes={notes}
        onChange={setFilters}
      />
      {accounts.isError ? (
        <p role="alert" className="error">
          Accounts could not be read: {describeError(accounts.error)}
        </p>
      ) : null}
      <div className={selected === undefined ? "txn-main" : "txn-main with-detail"}>
        <section aria-labelledby="transactions-list-heading" className="txn-list">
          <div className="txn-list-head">
            <h2 id="transactions-list-heading">List</h2>
            <p role="status" className={`txn-live-state ${live.state}`}>
              {liveLabels[live.state]}
            </p>
            {newIds.size === 0 ? null : (
              <button type="button" className="secondary" onClick={() => setNewIds(new Set())}>
                Mark all seen
              </button>
            )}
          </div>
          {burst === 0 ? null : (
            <p role="status" className="txn-burst">
              {burst.toLocaleString()} changes arrived at once, too many to show one by one.{" "}
              <button type="button" onClick={showBurst}>
                Show them
              </button>
            </p>
          )}
          {live.problem === undefined ? null : (
            <p className="hint">Live changes paused: {live.problem}</p>
          )}
          <p id="transactions-table-help" className="hint">
            {countText(rows.length, list.hasNextPage)} Click a row or press Enter on it to see its
            details; the arrow keys move between rows.
          </p>
          <TransactionTable
            rows={rows}
            accountName={accountName}
            newIds={newIds}
            selected={selected}
            onOpen={open}
            hasMore={list.hasNextPage}
            loadingMore={list.isFetchingNextPage}
            onNearEnd={loadMore}
          />
          <ListState
            pending={list.isPending && !waitingForCurrency}
            error={list.error}
            empty={list.isSuccess && rows.length === 0}
            loadingMore={list.isFetchingNextPage}
            onRetry={() => void list.refetch()}
          />
        </section>
        {selected === undefined ? null : (
          <TransactionDetail
            key={selected}
            id={selected}
            accountName={accountName}
            latestVersion={latestVersion}
            onClose={close}
            onChanged={changed}
            onCreated={created}
          />
        )}
      </div>
      <div className="txn-forms">
        <NewTransactionForm accounts={accountList} onCreated={created} />
        <TransferForm accounts={accountList} onTransferred={(legs) => legs.forEach(created)} />
      </div>
    </div>
  )
}

const countText = (count: number, more: boolean) =>
  count === 0
    ? ""
    : `${count.toLocaleString()} transaction${count === 1 ? "" : "s"}${more ? " loaded, more as you scroll" : ""}.`

const ListState = (props: {
  readonly pending: boolean
  readonly error: unknown
  readonly empty: boolean
  readonly loadingMore: boolean
  readonly onRetry: () => void
}) => {
  if (props.error !== null && props.error !== undefined) {
    return (
      <div role="alert" className="error">
        {describeError(props.error)}{" "}
        <button type="button" className="secondary" onClick={props.onRetry}>
          Try again
        </button>
      </div>
    )
  }
  if (props.pending) return <p aria-busy="true">Loading transactions…</p>
  if (props.empty) return <p>No transactions match these filters.</p>
  if (props.loadingMore) return <p aria-busy="true">Loading more…</p>
  return null
}
