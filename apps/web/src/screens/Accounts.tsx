import { useInfiniteQuery, useQuery } from "@tanstack/react-query"
import type { Account } from "@txn/client"
import { useCallback, useId, useMemo } from "react"
import { Link, useRouter } from "wouter"
import { Chart, type ChartTheme, moneyAxis, themedAxis, uPlot } from "../chart.tsx"
import { describeError } from "../errors.ts"
import { money } from "../format.ts"
import { useTxn } from "../txn.tsx"
import { useQueryParams } from "./accountsData.ts"
import { balanceTimes } from "./accountsMath.ts"
import "./Accounts.css"
import { NewAccountForm } from "./NewAccountForm.tsx"

/** Accounts shown per page of the table ("Load more" fetches the next). */
const pageSize = 100
/** Days in the balance chart. */
const historyDays = 30

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" })

/** The Accounts screen: every account with its balances, a form for a new one, the chosen one. */
export default function Accounts() {
  const [params, setParams] = useQueryParams()
  const selected = params.get("account") ?? undefined
  const select = useCallback(
    (id: string) => setParams((next) => next.set("account", id)),
    [setParams],
  )
  return (
    <div className="accounts-screen">
      <h1>Accounts</h1>
      <div className="accounts-layout">
        <div className="accounts-main">
          <AccountsTable selected={selected} onSelect={select} />
          {selected === undefined ? null : <SelectedAccount key={selected} id={selected} />}
        </div>
        <NewAccountForm onCreated={select} />
      </div>
    </div>
  )
}

const AccountsTable = (props: {
  readonly selected: string | undefined
  readonly onSelect: (id: string) => void
}) => {
  const txn = useTxn()
  const accounts = useInfiniteQuery({
    queryKey: ["accounts.list", { limit: pageSize }],
    queryFn: ({ pageParam, signal }) =>
      txn.accounts.list.query(
        { limit: pageSize, ...(pageParam === undefined ? {} : { cursor: pageParam }) },
        { signal },
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) =>
      last.hasMore && last.nextCursor !== null ? last.nextCursor : undefined,
  })
  const items = useMemo(
    () => accounts.data?.pages.flatMap((page) => page.items) ?? [],
    [accounts.data],
  )
  return (
    <div className="accounts-list">
      <table aria-label="Accounts" aria-busy={accounts.isPending}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Currency</th>
            <th scope="col" className="amount">
              Posted
            </th>
            <th scope="col" className="amount">
              Pending
            </th>
            <th scope="col" className="amount">
              Available
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((account) => (
            <AccountRow
              key={account.id}
              account={account}
              selected={account.id === props.selected}
              onSelect={props.onSelect}
            />
          ))}
          {accounts.isPending ? (
            <tr>
              <td colSpan={5}>Loading accounts…</td>
            </tr>
          ) : null}
          {accounts.isSuccess && items.length === 0 ? (
            <tr>
              <td colSpan={5}>No accounts yet. Create one with the form.</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {accounts.isError ? (
        <p role="alert" className="error">
          {describeError(accounts.error)}
        </p>
      ) : null}
      {accounts.hasNextPage ? (
        <p>
          <button
            type="button"
            className="secondary"
            disabled={accounts.isFetchingNextPage}
            onClick={() => void accounts.fetchNextPage()}
          >
            {accounts.isFetchingNextPage ? "Loading more…" : "Load more"}
          </button>
        </p>
      ) : null}
    </div>
  )
}

/** The balance of one account, shared by its row and its section. */
const useBalance = (id: string) => {
  const txn = useTxn()
  return useQuery({
    queryKey: ["accounts.balance", { id }],
    queryFn: ({ signal }) => txn.accounts.balance.query({ id }, { signal }),
  })
}

const AccountRow = (props: {
  readonly account: Account
  readonly selected: boolean
  readonly onSelect: (id: string) => void
}) => {
  const { account } = props
  const balance = useBalance(account.id)
  const figure = (pick: (b: NonNullable<typeof balance.data>) => number) =>
    balance.data === undefined
      ? balance.isError
        ? "Unavailable"
        : "…"
      : money(pick(balance.data), balance.data.currency)
  return (
    <tr className={props.selected ? "selected" : undefined}>
      <td>
        <button
          type="button"
          className="link-button"
          aria-current={props.selected ? "true" : undefined}
          onClick={() => props.onSelect(account.id)}
        >
          {account.name}
        </button>
      </td>
      <td>{account.currency}</td>
      <td className="amount">{figure((b) => b.posted)}</td>
      <td className="amount">{figure((b) => b.pending)}</td>
      <td className="amount">{figure((b) => b.available)}</td>
    </tr>
  )
}

/**
 * A wouter href to `path` of the dashboard (e.g. `/transactions`): this screen is a nested route,
 * whose base ends in /accounts, so the path is made absolute from the dashboard's own base.
 */
const useDashboardHref = (path: string) => {
  const { base } = useRouter()
  return `~${base.replace(/\/accounts\/?$/i, "")}${path}`
}

const SelectedAccount = (props: { readonly id: string }) => {
  const txn = useTxn()
  const transactionsHref = useDashboardHref(
    `/transactions?accountId=${encodeURIComponent(props.id)}`,
  )
  const headingId = useId()
  const account = useQuery({
    queryKey: ["accounts.get", { id: props.id }],
    queryFn: ({ signal }) => txn.accounts.get.query({ id: props.id }, { signal }),
  })
  const balance = useBalance(props.id)
  if (account.isError) {
    return (
      <section className="panel" aria-label="Selected account">
        <p role="alert" className="error">
          {describeError(account.error)}
        </p>
      </section>
    )
  }
  if (account.data === undefined) {
    return (
      <section className="panel" aria-label="Selected account" aria-busy="true">
        <p>Loading the account…</p>
      </section>
    )
  }
  const { name, currency } = account.data
  return (
    <section className="panel accounts-selected" aria-labelledby={headingId}>
      <h2 id={headingId}>{name}</h2>
      {balance.isError ? (
        <p role="alert" className="error">
          {describeError(balance.error, currency)}
        </p>
      ) : (
        <dl className="accounts-figures" aria-busy={balance.isPending}>
          <div>
            <dt>Posted</dt>
            <dd>{balance.data === undefined ? "…" : money(balance.data.posted, currency)}</dd>
          </div>
          <div>
            <dt>Pending</dt>
            <dd>{balance.data === undefined ? "…" : money(balance.data.pending, currency)}</dd>
          </div>
          <div>
            <dt>Available</dt>
            <dd>{balance.data === undefined ? "…" : money(balance.data.available, currency)}</dd>
          </div>
        </dl>
      )}
      <p className="hint">
        {currency}
        {account.data.allowNegative ? ", may go negative" : ", may not go negative"}. Opened{" "}
        {dayFormat.format(new Date(account.data.createdAt))}.
      </p>
      <BalanceHistory id={props.id} currency={currency} />
      <p>
        <Link href={transactionsHref}>See transactions</Link>
      </p>
    </section>
  )
}

/** The posted balance at the end of each of the last 30 days, read in parallel. */
const BalanceHistory = (props: { readonly id: string; readonly currency: string }) => {
  const txn = useTxn()
  const { id, currency } = props
  const history = useQuery({
    queryKey: ["accounts.balanceHistory", { id, days: historyDays }],
    queryFn: async ({ signal }) => {
      const times = balanceTimes(new Date(), historyDays)
      const balances = await Promise.all(
        times.map((time) =>
          txn.accounts.balance.query({ id, asOf: time.toISOString() }, { signal }),
        ),
      )
      return {
        times: times.map((time) => Math.floor(time.getTime() / 1000)),
        posted: balances.map((balance) => balance.posted),
      }
    },
  })
  const data = useMemo<uPlot.AlignedData | undefined>(
    () => (history.data === undefined ? undefined : [history.data.times, history.data.posted]),
    [history.data],
  )
  const options = useCallback(
    (theme: ChartTheme): Omit<uPlot.Options, "width" | "height"> => ({
      scales: {
        x: { time: true },
        y: {
          range: (_self, min, max) => {
            // A flat line (no history yet) sits in the middle, not on the edge.
            if (min === max) {
              const pad = Math.max(100, Math.abs(min))
              return [min - pad, max + pad]
            }
            return uPlot.rangeNum(min, max, 0.1, true)
          },
        },
      },
      axes: [themedAxis(theme), moneyAxis(theme, currency)],
      series: [
        {},
        {
          label: "Posted",
          stroke: theme.accent,
          width: 2,
          points: { show: true, size: 5, fill: theme.accent, stroke: theme.accent },
        },
      ],
    }),
    [currency],
  )
  const readout = useCallback(
    (index: number) => {
      const time = history.data?.times[index]
      const posted = history.data?.posted[index]
      if (time === undefined || posted === undefined) return ""
      return `${dayFormat.format(new Date(time * 1000))}: ${money(posted, currency)} posted`
    },
    [history.data, currency],
  )
  const label = useMemo(() => {
    const first = history.data?.times[0]
    const last = history.data?.times.at(-1)
    const now = history.data?.posted.at(-1)
    if (first === undefined || last === undefined || now === undefined) return ""
    return `Posted balance from ${dayFormat.format(new Date(first * 1000))} to ${dayFormat.format(new Date(last * 1000))}, now ${money(now, currency)}`
  }, [history.data, currency])
  return (
    <figure className="chart-figure">
      <figcaption>Balance over time</figcaption>
      {history.isError ? (
        <p role="alert" className="error">
          {describeError(history.error, currency)}
        </p>
      ) : data === undefined ? (
        <p aria-busy="true">Loading the last {historyDays} days…</p>
      ) : (
        <Chart
          label={label}
          data={data}
          options={options}
          readout={readout}
          legend={[{ label: "Posted balance, end of day", tone: "accent" }]}
        />
      )}
    </figure>
  )
}
