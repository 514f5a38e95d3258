import type { Account } from "@txn/client"
import { type FormEvent, useEffect, useId, useRef, useState } from "react"
import { SelectField } from "../fields.tsx"
import { capitalized, statusLabel } from "./TransactionTable.tsx"
import {
  directions,
  fromLocalInput,
  noFilters,
  sameFilters,
  statuses,
  type TransactionFilters,
  toLocalInput,
} from "./transactionFilters.ts"

/** The form's own values: as the URL's filters, with From and To as local date-times. */
type Draft = TransactionFilters

const toDraft = (filters: TransactionFilters): Draft => ({
  ...filters,
  occurredFrom: toLocalInput(filters.occurredFrom),
  occurredTo: toLocalInput(filters.occurredTo),
})

const fromDraft = (draft: Draft): TransactionFilters => ({
  ...draft,
  occurredFrom: fromLocalInput(draft.occurredFrom) ?? "",
  occurredTo: fromLocalInput(draft.occurredTo) ?? "",
})

/** How long typing may pause before the filters apply. */
const typingDelayMs = 300

/**
 * The filter form: each change is written to the URL (selects at once, typed text once typing
 * pauses), and the form follows the URL when it changes otherwise (back, a link).
 */
export const TransactionFilterForm = (props: {
  readonly filters: TransactionFilters
  readonly accounts: ReadonlyArray<Account>
  readonly currency: string
  readonly notes: ReadonlyArray<string>
  readonly onChange: (filters: TransactionFilters) => void
}) => {
  const { filters, onChange } = props
  const id = useId()
  const [draft, setDraft] = useState<Draft>(() => toDraft(filters))
  const written = useRef<TransactionFilters>(filters)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)

  // The URL changed by something other than this form: show what it says.
  useEffect(() => {
    if (sameFilters(filters, written.current)) return
    written.current = filters
    if (timer.current !== undefined) clearTimeout(timer.current)
    setDraft(toDraft(filters))
  }, [filters])

  useEffect(() => () => clearTimeout(timer.current), [])

  const commit = (next: Draft) => {
    if (timer.current !== undefined) clearTimeout(timer.current)
    timer.current = undefined
    const converted = fromDraft(next)
    if (sameFilters(converted, written.current)) return
    written.current = converted
    onChange(converted)
  }

  const set = <K extends keyof Draft>(key: K, value: Draft[K], typed: boolean) => {
    const next = { ...draft, [key]: value }
    setDraft(next)
    if (timer.current !== undefined) clearTimeout(timer.current)
    if (typed) timer.current = setTimeout(() => commit(next), typingDelayMs)
    else commit(next)
  }

  const submit = (event: FormEvent) => {
    event.preventDefault()
    commit(draft)
  }

  const clear = () => {
    const next = toDraft(noFilters)
    setDraft(next)
    commit(next)
  }

  const field = (name: string) => `${id}-${name}`

  return (
    <form aria-label="Filters" className="txn-filters panel" onSubmit={submit}>
      <div className="row">
        <SelectField
          id={id}
          name="account"
          label="Account"
          value={draft.accountId}
          onChange={(value) => set("accountId", value, false)}
        >
          <option value="">All accounts</option>
          {draft.accountId !== "" &&
          !props.accounts.some((account) => account.id === draft.accountId) ? (
            <option value={draft.accountId}>{draft.accountId}</option>
          ) : null}
          {props.accounts.map((account) => (
            <option key={account.id} value={account.id}>
              {account.name}
            </option>
          ))}
        </SelectField>
        <SelectField
          id={id}
          name="status"
          label="Status"
          value={draft.status}
          onChange={(value) => set("status", value as TransactionFilters["status"], false)}
        >
          <option value="">All statuses</option>
          {statuses.map((status) => (
            <option key={status} value={status}>
              {statusLabel(status)}
            </option>
          ))}
        </SelectField>
        <SelectField
          id={id}
          name="direction"
          label="Direction"
          value={draft.direction}
          onChange={(value) => set("direction", value as TransactionFilters["direction"], false)}
        >
          <option value="">All directions</option>
          {directions.map((direction) => (
            <option key={direction} value={direction}>
              {capitalized(direction)}
            </option>
          ))}
        </SelectField>
        <div className="field">
          <label htmlFor={field("category")}>Category</label>
          <input
            id={field("category")}
            type="text"
            maxLength={100}
            value={draft.category}
            onChange={(event) => set("category", event.target.value, true)}
          />
        </div>
        <div className="field">
          <label htmlFor={field("search")}>Search</label>
          <input
            id={field("search")}
            type="text"
            maxLength={200}
            value={draft.search}
            aria-describedby={field("search-hint")}
            onChange={(event) => set("search", event.target.value, true)}
          />
          <span id={field("search-hint")} className="hint">
            Description, counterparty or reference
          </span>
        </div>
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={field("from")}>From</label>
          <input
            id={field("from")}
            type="datetime-local"
            value={draft.occurredFrom}
            onChange={(event) => set("occurredFrom", event.target.value, true)}
          />
        </div>
        <div className="field">
          <label htmlFor={field("to")}>To</label>
          <input
            id={field("to")}
            type="datetime-local"
            value={draft.occurredTo}
            aria-describedby={field("to-hint")}
            onChange={(event) => set("occurredTo", event.target.value, true)}
          />
          <span id={field("to-hint")} className="hint">
            Up to, not including
          </span>
        </div>
        <div className="field">
          <label htmlFor={field("min")}>Min amount</label>
          <input
            id={field("min")}
            type="text"
            inputMode="decimal"
            autoComplete="off"
            value={draft.minAmount}
            aria-describedby={field("txn-amount-hint")}
            onChange={(event) => set("minAmount", event.target.value, true)}
          />
        </div>
        <div className="field">
          <label htmlFor={field("max")}>Max amount</label>
          <input
            id={field("max")}
            type="text"
            inputMode="decimal"
            autoComplete="off"
            value={draft.maxAmount}
            aria-describedby={field("txn-amount-hint")}
            onChange={(event) => set("maxAmount", event.target.value, true)}
          />
        </div>
        <p id={field("txn-amount-hint")} className="hint txn-amount-hint">
          Amounts in {props.currency}
          {draft.accountId === "" ? " (choose an account for its currency)" : ""}
        </p>
        <div className="txn-field-actions">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={clear}>
            Clear filters
          </button>
        </div>
      </div>
      {props.notes.length === 0 ? null : (
        <ul className="txn-notes" aria-label="Filter notes">
          {props.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
    </form>
  )
}
