import { useQuery } from "@tanstack/react-query"
import type { Account, TxnClient } from "@txn/client"
import { useCallback, useMemo } from "react"
import { useLocation, useSearch } from "wouter"
import { useTxn } from "../txn.tsx"

/** The largest page `accounts.list` gives. */
export const accountsPageLimit = 200

/** Every account, page after page until the list says there is no more. */
export const fetchAllAccounts = async (
  txn: TxnClient,
  signal?: AbortSignal,
): Promise<ReadonlyArray<Account>> => {
  const accounts: Array<Account> = []
  let cursor: string | undefined
  for (;;) {
    const page = await txn.accounts.list.query(
      { limit: accountsPageLimit, ...(cursor === undefined ? {} : { cursor }) },
      { signal },
    )
    accounts.push(...page.items)
    if (!page.hasMore || page.nextCursor === null) return accounts
    cursor = page.nextCursor
  }
}

/**
 * Every account of the signed-in person (for a select). Its key starts with "accounts.list", so
 * invalidating that after a create refreshes it too.
 */
export const useAllAccounts = () => {
  const txn = useTxn()
  return useQuery({
    queryKey: ["accounts.list", { all: true, limit: accountsPageLimit }],
    queryFn: ({ signal }) => fetchAllAccounts(txn, signal),
  })
}

/**
 * The page's query string as URLSearchParams, and a way to change it: `update` edits a copy, and
 * the page's own path is kept as it is (no trailing slash added inside a nested route).
 */
export const useQueryParams = (): readonly [
  URLSearchParams,
  (update: (params: URLSearchParams) => void, options?: { readonly replace?: boolean }) => void,
] => {
  const search = useSearch()
  const [, navigate] = useLocation()
  const params = useMemo(() => new URLSearchParams(search), [search])
  const setParams = useCallback(
    (update: (params: URLSearchParams) => void, options?: { readonly replace?: boolean }) => {
      const next = new URLSearchParams(window.location.search)
      update(next)
      const query = next.toString()
      const target = `${window.location.pathname}${query === "" ? "" : `?${query}`}`
      if (target === `${window.location.pathname}${window.location.search}`) return
      navigate(`~${target}`, { replace: options?.replace ?? false })
    },
    [navigate],
  )
  return [params, setParams] as const
}
