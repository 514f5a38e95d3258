import { type QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import { type Export, errorTag, type TxnClient } from "@txn/client"
import { type FormEvent, useEffect, useId, useMemo, useRef, useState } from "react"
import { describeError } from "../errors.ts"
import { SelectField, TextField } from "../fields.tsx"
import { newKey, when } from "../format.ts"
import { useTxn } from "../txn.tsx"
import { describeDownloadError, useDownload } from "./exportDownload.ts"
import {
  directions,
  type ExportFormValues,
  emptyExportForm,
  exportInput,
  filtersLabel,
  isSettled,
  progressOf,
  rowsLabel,
  transactionStatuses,
} from "./exportForm.ts"
import "./exports.css"

/**
 * The exports started while signed in, newest first: ids only, kept in this session's query
 * cache (it lives as long as the sign-in), so leaving the screen and coming back keeps them.
 * Each export's state is its own `["exports", id]` query.
 */
const startedKey = ["exportsStartedThisSession"] as const

const useStarted = () => {
  const queries = useQueryClient()
  return useQuery({
    queryKey: startedKey,
    // Never fetched from anywhere: a refetch (a broad invalidation) answers what is there.
    queryFn: () => queries.getQueryData<ReadonlyArray<string>>(startedKey) ?? [],
    initialData: (): ReadonlyArray<string> => [],
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
  })
}

const remember = (queries: QueryClient, created: Export) => {
  queries.setQueryData(["exports", created.id], created)
  queries.setQueryData<ReadonlyArray<string>>(startedKey, (ids = []) => [
    created.id,
    ...ids.filter((id) => id !== created.id),
  ])
}

/** Every account, for the "Account" select (a few pages of the largest size at most). */
const listAccounts = async (txn: TxnClient, signal: AbortSignal) => {
  const accounts: Array<{ id: string; name: string; currency: string }> = []
  let cursor: string | undefined
  for (let page = 0; page < 5; page++) {
    const answer = await txn.accounts.list.query(
      { limit: 200, ...(cursor === undefined ? {} : { cursor }) },
      { signal },
    )
    accounts.push(...answer.items)
    if (!answer.hasMore || answer.nextCursor === null) return { accounts, complete: true }
    cursor = answer.nextCursor
  }
  return { accounts, complete: false }
}

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" })
const day = (iso: string) => dayFormat.format(new Date(iso))

/** Errors worth polling through (the client retries them too); any other one stops the poll. */
const passing = new Set(["Unavailable", "RateLimited", undefined])

const ExportRow = (props: {
  readonly id: string
  readonly accountName: (id: string) => string | undefined
  readonly announce: (message: string) => void
}) => {
  const txn = useTxn()
  const download = useDownload()
  const { id, announce } = props
  const exp = useQuery({
    queryKey: ["exports", id],
    queryFn: ({ signal }) => txn.exports.get.query({ id }, { signal }),
    refetchInterval: (query) => {
      const data = query.state.data
      if (data !== undefined && isSettled(data.status)) return false
      const error = query.state.error
      if (error !== null && !passing.has(errorTag(error))) return false
      return 500
    },
  })
  const save = useMutation({ mutationFn: () => download(id) })

  // Say so when an export this row watched ends (not when it was over already).
  const status = exp.data?.status
  const seen = useRef(status)
  useEffect(() => {
    const before = seen.current
    seen.current = status
    if (before === undefined || status === undefined || before === status) return
    if (status === "completed") announce(`Export ${id} is ready to download.`)
    if (status === "failed") announce(`Export ${id} failed.`)
  }, [status, id, announce])

  if (exp.data === undefined) {
    return (
      <tr>
        <td className="mono">{id}</td>
        <td colSpan={6}>
          {exp.error === null ? (
            <span aria-busy="true">Loading…</span>
          ) : (
            <p role="alert" className="error">
              {describeError(exp.error)}
            </p>
          )}
        </td>
      </tr>
    )
  }
  const data = exp.data
  const progress = progressOf(data)
  return (
    <tr>
      <td className="mono">{data.id}</td>
      <td>{filtersLabel(data.filters, props.accountName, day)}</td>
      <td>{when(data.createdAt)}</td>
      <td>
        <span className={`badge export-status export-status-${data.status}`}>{data.status}</span>
      </td>
      <td className="amount">{rowsLabel(data)}</td>
      <td className="export-progress-cell">
        {progress === undefined ? (
          <progress aria-label="Export progress" />
        ) : (
          <progress aria-label="Export progress" value={progress.value} max={progress.max} />
        )}
      </td>
      <td>
        {data.status === "completed" ? (
          <div className="export-result">
            <button type="button" onClick={() => save.mutate()} disabled={save.isPending}>
              Download
            </button>
            {save.isPending ? <span className="hint">Downloading…</span> : null}
            {save.isSuccess ? <span className="hint">Saved as {save.data}</span> : null}
            {save.error === null ? null : (
              <p role="alert" className="error">
                {describeDownloadError(save.error)}
              </p>
            )}
          </div>
        ) : data.status === "failed" ? (
          <p className="export-failure">{data.error ?? "The export failed. Start it again."}</p>
        ) : (
          <span className="hint">
            {data.status === "queued" ? "Waiting for the worker…" : "Writing the file…"}
          </span>
        )}
        {exp.error === null ? null : (
          <p role="alert" className="error">
            {describeError(exp.error)}
          </p>
        )}
      </td>
    </tr>
  )
}

/** The Exports screen: start a CSV export of filtered transactions, follow it, download it. */
export default function Exports() {
  const txn = useTxn()
  const queries = useQueryClient()
  const ids = useId()
  const [values, setValues] = useState<ExportFormValues>(emptyExportForm)
  const [problem, setProblem] = useState<string | undefined>()
  const [announcement, setAnnouncement] = useState("")
  const started = useStarted()
  const accounts = useQuery({
    queryKey: ["accounts", "all-for-exports"],
    queryFn: ({ signal }) => listAccounts(txn, signal),
  })
  const create = useMutation({
    mutationFn: (input: Parameters<TxnClient["exports"]["create"]["mutate"]>[0]) =>
      txn.exports.create.mutate(input),
    onSuccess: (created) => {
      remember(queries, created)
      setAnnouncement(`Export ${created.id} started.`)
    },
  })

  const list = accounts.data?.accounts
  const accountName = useMemo(() => {
    const names = new Map(list?.map((a) => [a.id, a.name]) ?? [])
    return (id: string) => names.get(id)
  }, [list])

  const set =
    <K extends keyof ExportFormValues>(key: K) =>
    (value: string) =>
      setValues((old) => ({ ...old, [key]: value as ExportFormValues[K] }))

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const result = exportInput(values)
    if (!result.ok) {
      setProblem(result.problem)
      return
    }
    setProblem(undefined)
    // One key per press: the client's retries of this press reuse it, a new press gets another.
    create.mutate({ ...result.input, idempotencyKey: newKey() })
  }

  const field = (name: keyof ExportFormValues) => `${ids}-${name}`
  const error = problem ?? (create.error === null ? undefined : describeError(create.error))

  return (
    <div className="exports">
      <h1>Exports</h1>
      <p className="hint">
        A CSV file of the transactions matching the filters, written in the background. Files are
        kept for 7 days.
      </p>
      <form aria-label="New export" className="panel export-form" onSubmit={submit} noValidate>
        <div className="row">
          <SelectField
            id={ids}
            name="accountId"
            label="Account"
            value={values.accountId}
            onChange={set("accountId")}
          >
            <option value="">All accounts</option>
            {accounts.data?.accounts.map((account) => (
              <option key={account.id} value={account.id}>
                {account.name} ({account.currency})
              </option>
            ))}
          </SelectField>
          <div className="field">
            <label htmlFor={field("from")}>From</label>
            <input
              id={field("from")}
              type="date"
              value={values.from}
              onChange={(event) => set("from")(event.target.value)}
              aria-invalid={problem?.startsWith("From") === true ? true : undefined}
            />
          </div>
          <div className="field">
            <label htmlFor={field("to")}>To</label>
            <input
              id={field("to")}
              type="date"
              value={values.to}
              min={values.from === "" ? undefined : values.from}
              onChange={(event) => set("to")(event.target.value)}
              aria-invalid={problem?.startsWith("To") === true ? true : undefined}
            />
          </div>
          <SelectField
            id={ids}
            name="direction"
            label="Direction"
            value={values.direction}
            onChange={set("direction")}
          >
            <option value="">Credits and debits</option>
            {directions.map((direction) => (
              <option key={direction} value={direction}>
                {direction === "credit" ? "Credits" : "Debits"}
              </option>
            ))}
          </SelectField>
          <SelectField
            id={ids}
            name="status"
            label="Status"
            value={values.status}
            onChange={set("status")}
          >
            <option value="">Any status</option>
            {transactionStatuses.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </SelectField>
          <TextField
            id={ids}
            name="category"
            label="Category"
            maxLength={100}
            value={values.category}
            onChange={set("category")}
          />
          <TextField
            id={ids}
            name="search"
            label="Search"
            type="search"
            maxLength={200}
            value={values.search}
            onChange={set("search")}
          />
          <button type="submit" disabled={create.isPending}>
            Start export
          </button>
        </div>
        <p className="hint">
          Days are in your time zone; To includes that whole day. Leave a field empty to not filter
          on it.
        </p>
        {accounts.error === null ? null : (
          <p role="alert" className="error">
            The accounts could not be listed ({describeError(accounts.error)}); you can still export
            all of them.
          </p>
        )}
        {accounts.data?.complete === false ? (
          <p className="hint">Only your first 1,000 accounts are listed.</p>
        ) : null}
        {error === undefined ? null : (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
      <p className="export-sr-only" role="status">
        {announcement}
      </p>
      {started.data.length === 0 ? (
        <p className="hint">Exports you start while signed in are listed here.</p>
      ) : (
        <div className="export-table-wrap">
          <table aria-label="Exports">
            <thead>
              <tr>
                <th scope="col">Export</th>
                <th scope="col">Filters</th>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col" className="amount">
                  Rows
                </th>
                <th scope="col">Progress</th>
                <th scope="col">File</th>
              </tr>
            </thead>
            <tbody>
              {started.data.map((id) => (
                <ExportRow key={id} id={id} accountName={accountName} announce={setAnnouncement} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}
