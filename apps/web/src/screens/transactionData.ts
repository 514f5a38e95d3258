import { type InfiniteData, type QueryClient, useQuery } from "@tanstack/react-query"
import type { Account, Transaction } from "@txn/client"
import { useTxn } from "../txn.tsx"

/** The query keys of this screen; every list of transactions starts with `listKey`. */
export const accountsKey = ["accounts", "list", "all"] as const
export const listKey = ["transactions", "list"] as const
export const transactionKey = (id: string) => ["transactions", "get", id] as const
export const historyKey = (id: string) => ["transactions", "history", id] as const

/** One page of `transactions.list`. */
export interface TransactionPage {
  readonly items: ReadonlyArray<Transaction>
  readonly nextCursor: string | null
  readonly hasMore: boolean
}

/** The most accounts read for the pickers (200 a page). */
const maxAccountPages = 25

/** Every account of the caller, for the pickers and the names in the list. */
export const useAccounts = () => {
  const txn = useTxn()
  return useQuery({
    queryKey: accountsKey,
    queryFn: async ({ signal }) => {
      const accounts: Array<Account> = []
      let cursor: string | undefined
      for (let page = 0; page < maxAccountPages; page++) {
        const answer = await txn.accounts.list.query(
          { limit: 200, ...(cursor === undefined ? {} : { cursor }) },
          { signal },
        )
        accounts.push(...answer.items)
        if (!answer.hasMore || answer.nextCursor === null) break
        cursor = answer.nextCursor
      }
      return accounts
    },
  })
}

/**
 * Puts a newer copy of a transaction in place of the old one in every cached list that holds it;
 * a copy at an older version than the cached one is ignored (answers may arrive out of order).
 * Lists without it are left as they are, still stale if they were (writing a cache entry would
 * make it fresh again).
 */
export const replaceInLists = (queries: QueryClient, transaction: Transaction) => {
  for (const query of queries.getQueryCache().findAll({ queryKey: listKey })) {
    const data = query.state.data as InfiniteData<TransactionPage, string | undefined> | undefined
    if (data === undefined) continue
    let changed = false
    const pages = data.pages.map((page) => {
      const at = page.items.findIndex((item) => item.id === transaction.id)
      const current = page.items[at]
      if (current === undefined || current.version >= transaction.version) return page
      changed = true
      const items = page.items.slice()
      items[at] = transaction
      return { ...page, items }
    })
    if (!changed) continue
    const stale = query.state.isInvalidated
    queries.setQueryData(
      query.queryKey,
      { ...data, pages },
      { updatedAt: query.state.dataUpdatedAt },
    )
    if (stale) query.invalidate()
  }
}

/**
 * After a change made here: the transaction as answered in its detail and its rows, its history
 * fetched again, and every other query marked stale (balances, summaries and lists elsewhere are
 * fetched again when next shown). The loaded list is not fetched again at once: refetching
 * thousands of loaded rows for one change would be wasteful, and its row is replaced above (live
 * changes bring the rest).
 */
export const afterChange = async (queries: QueryClient, transaction: Transaction) => {
  queries.setQueryData(transactionKey(transaction.id), transaction)
  replaceInLists(queries, transaction)
  await queries.invalidateQueries({ refetchType: "none" })
  await queries.invalidateQueries({ queryKey: historyKey(transaction.id) })
}
