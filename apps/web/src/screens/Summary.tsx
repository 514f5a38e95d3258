import { useQuery } from "@tanstack/react-query"
import type { SummaryGroup } from "@txn/client"
import { useEffect, useId, useMemo, useState } from "react"
import { describeError } from "../errors.ts"
import { SelectField } from "../fields.tsx"
import { money } from "../format.ts"
import { useTxn } from "../txn.tsx"
import { useAllAccounts, useQueryParams } from "./accountsData.ts"
import { defaultPeriod, isDateText, monthsBetween, periodRange, sumMinor } from "./summaryMath.ts"
import "./Summary.css"
import { GroupChart, keyText, moneyTotal } from "./SummaryChart.tsx"

/** What the summaries are asked for, but the grouping. */
interface SummaryFilter {
  readonly occurredFrom: string
  readonly occurredTo: string
  readonly accountId?: string
  readonly currency?: string
}

const emptyText = "No transactions in this period."

/** The Summary screen: credits and debits of a period by category and by month. */
export default function Summary() {
  const ids = useId()
  const [params, setParams] = useQueryParams()
  const defaults = useMemo(() => defaultPeriod(new Date()), [])
  const from = params.get("from") ?? defaults.from
  const to = params.get("to") ?? defaults.to
  const accountId = params.get("accountId") ?? ""
  const accounts = useAllAccounts()
  const account = accounts.data?.find((item) => item.id === accountId)

  const currencies = useMemo(() => {
    const codes = new Set((accounts.data ?? []).map((item) => item.currency))
    return [...codes].sort()
  }, [accounts.data])
  const chosenCurrency = params.get("currency") ?? undefined
  const currency =
    account?.currency ??
    chosenCurrency ??
    (currencies.includes("USD") ? "USD" : currencies[0]) ??
    "USD"
  const currencyOptions = currencies.includes(currency) ? currencies : [...currencies, currency]

  // The date inputs hold what is typed; the URL takes a date once it is a whole one.
  const [fromText, setFromText] = useState(from)
  const [toText, setToText] = useState(to)
  useEffect(() => setFromText(from), [from])
  useEffect(() => setToText(to), [to])
  const range = periodRange(fromText, toText)

  const setParam = (name: string, value: string | undefined) =>
    setParams(
      (next) => {
        if (value === undefined || value === "") next.delete(name)
        else next.set(name, value)
      },
      { replace: true },
    )

  // Without an account, one currency (the first choice waits for the accounts to know them).
  const ready =
    !("error" in range) && (accountId !== "" || chosenCurrency !== undefined || !accounts.isPending)
  const filter: SummaryFilter | undefined =
    ready && !("error" in range)
      ? {
          occurredFrom: range.occurredFrom,
          occurredTo: range.occurredTo,
          ...(accountId === "" ? { currency } : { accountId }),
        }
      : undefined
  const months = useMemo(
    () => (isDateText(fromText) && isDateText(toText) ? monthsBetween(fromText, toText) : []),
    [fromText, toText],
  )

  return (
    <div className="summary-screen">
      <h1>Summary</h1>
      <form
        className="panel row summary-filters"
        aria-label="Summary filters"
        onSubmit={(event) => event.preventDefault()}
      >
        <div className="field">
          <label htmlFor={`${ids}-from`}>From</label>
          <input
            id={`${ids}-from`}
            type="date"
            value={fromText}
            min="1000-01-01"
            max="9999-12-30"
            required
            aria-describedby={`${ids}-dates`}
            onChange={(event) => {
              setFromText(event.target.value)
              if (isDateText(event.target.value)) setParam("from", event.target.value)
            }}
          />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-to`}>To</label>
          <input
            id={`${ids}-to`}
            type="date"
            value={toText}
            min="1000-01-01"
            max="9999-12-30"
            required
            aria-invalid={"error" in range}
            aria-describedby={`${ids}-dates`}
            onChange={(event) => {
              setToText(event.target.value)
              if (isDateText(event.target.value)) setParam("to", event.target.value)
            }}
          />
        </div>
        <SelectField
          id={ids}
          name="account"
          label="Account"
          value={accountId}
          onChange={(value) => setParam("accountId", value)}
        >
          <option value="">All accounts</option>
          {accountId !== "" && account === undefined ? (
            <option value={accountId}>
              {accounts.isPending ? "Loading…" : "An account not in the list"}
            </option>
          ) : null}
          {(accounts.data ?? []).map((item) => (
            <option key={item.id} value={item.id}>
              {item.name} ({item.currency})
            </option>
          ))}
        </SelectField>
        <SelectField
          id={ids}
          name="currency"
          label="Currency"
          value={currency}
          disabled={accountId !== ""}
          describedBy={`${ids}-currency-hint`}
          onChange={(value) => setParam("currency", value)}
        >
          {currencyOptions.map((code) => (
            <option key={code} value={code}>
              {code}
            </option>
          ))}
        </SelectField>
        <p id={`${ids}-currency-hint`} className="hint summary-hint">
          {accountId === ""
            ? "Totals of every account in this currency."
            : "Totals of this account, in its own currency."}
        </p>
        <p id={`${ids}-dates`} className={"error" in range ? "error summary-dates" : "hint"}>
          {"error" in range
            ? range.error
            : "Both days included; days and months are in UTC, as the totals are."}
        </p>
      </form>
      {accounts.isError ? (
        <p role="alert" className="error">
          {describeError(accounts.error)}
        </p>
      ) : null}
      <GroupSection
        groupBy="category"
        title="By category"
        tableLabel="Totals by category"
        keyHeader="Category"
        filter={filter}
        empty={emptyText}
      />
      <GroupSection
        groupBy="month"
        title="By month"
        tableLabel="Totals by month"
        keyHeader="Month"
        filter={filter}
        months={months}
        empty="No months to show."
      />
    </div>
  )
}

/** One grouping's chart and table. */
const GroupSection = (props: {
  readonly groupBy: "category" | "month"
  readonly title: string
  readonly tableLabel: string
  readonly keyHeader: string
  readonly filter: SummaryFilter | undefined
  /** For months: every month of the period, so that a month without transactions shows as 0. */
  readonly months?: ReadonlyArray<string>
  readonly empty: string
}) => {
  const txn = useTxn()
  const headingId = useId()
  const { groupBy, filter } = props
  const summary = useQuery({
    queryKey: ["transactions.summary", { ...filter, groupBy }],
    queryFn: async ({ signal }) => {
      if (filter === undefined) throw new Error("Choose a period first")
      return await txn.transactions.summary.query({ ...filter, groupBy }, { signal })
    },
    enabled: filter !== undefined,
  })
  const groups = summary.data?.groups
  return (
    <section className="summary-section" aria-labelledby={headingId}>
      <h2 id={headingId}>{props.title}</h2>
      {summary.isError ? (
        <p role="alert" className="error">
          {describeError(summary.error, filter?.currency)}
        </p>
      ) : groups === undefined ? (
        <p aria-busy={filter !== undefined}>
          {filter === undefined ? "Choose a period." : "Loading…"}
        </p>
      ) : groups.length === 0 ? (
        <p className="summary-empty">{props.empty}</p>
      ) : (
        <>
          <GroupChart groupBy={groupBy} groups={groups} months={props.months} />
          <GroupTable
            groupBy={groupBy}
            groups={groups}
            label={props.tableLabel}
            keyHeader={props.keyHeader}
          />
        </>
      )}
    </section>
  )
}

const GroupTable = (props: {
  readonly groupBy: "category" | "month"
  readonly groups: ReadonlyArray<SummaryGroup>
  readonly label: string
  readonly keyHeader: string
}) => {
  const { groups, groupBy } = props
  const currencies = new Set(groups.map((group) => group.currency))
  const only = currencies.size === 1 ? groups[0]?.currency : undefined
  return (
    <div className="summary-table">
      <table aria-label={props.label}>
        <thead>
          <tr>
            <th scope="col">{props.keyHeader}</th>
            <th scope="col" className="amount">
              Credits
            </th>
            <th scope="col" className="amount">
              Debits
            </th>
            <th scope="col" className="amount">
              Net
            </th>
            <th scope="col" className="amount">
              Count
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={`${group.currency} ${group.key === null ? "none" : `=${group.key}`}`}>
              <th scope="row">{keyText(groupBy, group.key)}</th>
              <td className="amount">{money(group.credits, group.currency)}</td>
              <td className="amount">{money(group.debits, group.currency)}</td>
              <td className="amount">{money(group.net, group.currency)}</td>
              <td className="amount">{group.count}</td>
            </tr>
          ))}
        </tbody>
        {only === undefined ? null : (
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td className="amount">
                {moneyTotal(sumMinor(groups.map((group) => group.credits)), only)}
              </td>
              <td className="amount">
                {moneyTotal(sumMinor(groups.map((group) => group.debits)), only)}
              </td>
              <td className="amount">
                {moneyTotal(sumMinor(groups.map((group) => group.net)), only)}
              </td>
              <td className="amount">{sumMinor(groups.map((group) => group.count)).toString()}</td>
            </tr>
          </tfoot>
        )}
      </table>
    </div>
  )
}
