import { useMutation, useQueryClient } from "@tanstack/react-query"
import { currencyExponents, exponentOf } from "@txn/client"
import { type FormEvent, useId, useState } from "react"
import { describeError } from "../errors.ts"
import { newKey } from "../format.ts"
import { useTxn } from "../txn.tsx"
import { normalizeCurrency, parseMetadata } from "./accountsMath.ts"
import "./Accounts.css"

const currencyCodes = Object.keys(currencyExponents).sort()

export const NewAccountForm = (props: { readonly onCreated: (id: string) => void }) => {
  const txn = useTxn()
  const queries = useQueryClient()
  const ids = useId()
  const [name, setName] = useState("")
  const [currencyText, setCurrencyText] = useState("USD")
  const [allowNegative, setAllowNegative] = useState(false)
  const [metadataText, setMetadataText] = useState("")
  const [tried, setTried] = useState(false)
  const [created, setCreated] = useState<string | undefined>()
  // One key per press of the button; a retry of the same press (nothing edited) reuses it.
  const [key, setKey] = useState(newKey)
  const edited = () => {
    setKey(newKey())
    setCreated(undefined)
  }

  const currency = normalizeCurrency(currencyText)
  const currencyError =
    exponentOf(currency) === undefined
      ? "Enter a three-letter ISO 4217 code the API accepts, such as USD or EUR."
      : undefined
  const nameError =
    name.trim() === ""
      ? "Enter a name."
      : name.length > 200
        ? "A name has at most 200 characters."
        : undefined
  const metadata = parseMetadata(metadataText)
  const metadataError = "error" in metadata ? metadata.error : undefined

  const create = useMutation({
    mutationFn: (input: Parameters<typeof txn.accounts.create.mutate>[0]) =>
      txn.accounts.create.mutate(input),
    onSuccess: async (account) => {
      setCreated(account.name)
      setName("")
      setMetadataText("")
      setTried(false)
      setKey(newKey())
      props.onCreated(account.id)
      await queries.invalidateQueries({ queryKey: ["accounts.list"] })
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setTried(true)
    setCreated(undefined)
    if (nameError !== undefined || currencyError !== undefined || "error" in metadata) return
    create.mutate({
      idempotencyKey: key,
      name: name.trim(),
      currency,
      ...(allowNegative ? { allowNegative } : {}),
      ...(metadata.metadata === undefined ? {} : { metadata: metadata.metadata }),
    })
  }

  const showNameError = tried && nameError !== undefined
  const showCurrencyError = currencyError !== undefined && (tried || currency.length >= 3)
  return (
    <form className="panel accounts-new" aria-label="New account" onSubmit={submit} noValidate>
      <h2>New account</h2>
      <div className="field">
        <label htmlFor={`${ids}-name`}>Name</label>
        <input
          id={`${ids}-name`}
          name="name"
          autoComplete="off"
          value={name}
          maxLength={200}
          aria-invalid={showNameError}
          aria-describedby={showNameError ? `${ids}-name-error` : undefined}
          onChange={(event) => {
            setName(event.target.value)
            edited()
          }}
        />
        {showNameError ? (
          <span id={`${ids}-name-error`} className="field-error">
            {nameError}
          </span>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={`${ids}-currency`}>Currency</label>
        <input
          id={`${ids}-currency`}
          name="currency"
          autoComplete="off"
          spellCheck={false}
          list={`${ids}-currencies`}
          className="currency-input"
          value={currencyText}
          maxLength={3}
          aria-invalid={showCurrencyError}
          aria-describedby={`${ids}-currency-${showCurrencyError ? "error" : "hint"}`}
          onChange={(event) => {
            setCurrencyText(event.target.value.toUpperCase())
            edited()
          }}
        />
        <datalist id={`${ids}-currencies`}>
          {currencyCodes.map((code) => (
            <option key={code} value={code} />
          ))}
        </datalist>
        {showCurrencyError ? (
          <span id={`${ids}-currency-error`} className="field-error">
            {currencyError}
          </span>
        ) : (
          <span id={`${ids}-currency-hint`} className="hint">
            ISO code; it never changes.
          </span>
        )}
      </div>
      <div className="field-check">
        <input
          id={`${ids}-negative`}
          type="checkbox"
          checked={allowNegative}
          aria-describedby={`${ids}-negative-hint`}
          onChange={(event) => {
            setAllowNegative(event.target.checked)
            edited()
          }}
        />
        <label htmlFor={`${ids}-negative`}>Allow negative balance</label>
        <span id={`${ids}-negative-hint`} className="hint">
          Debits may take it below zero.
        </span>
      </div>
      <div className="field">
        <label htmlFor={`${ids}-metadata`}>Metadata (optional)</label>
        <textarea
          id={`${ids}-metadata`}
          name="metadata"
          rows={2}
          spellCheck={false}
          value={metadataText}
          aria-invalid={metadataError !== undefined}
          aria-describedby={`${ids}-metadata-${metadataError === undefined ? "hint" : "error"}`}
          onChange={(event) => {
            setMetadataText(event.target.value)
            edited()
          }}
        />
        {metadataError === undefined ? (
          <span id={`${ids}-metadata-hint`} className="hint">
            One key=value a line.
          </span>
        ) : (
          <span id={`${ids}-metadata-error`} className="field-error">
            {metadataError}
          </span>
        )}
      </div>
      <div>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create account"}
        </button>
      </div>
      <p role="status" className="success">
        {created === undefined ? "" : `Created account ${created}`}
      </p>
      {create.isError ? (
        <p role="alert" className="error">
          {describeError(create.error, currency)}
        </p>
      ) : null}
    </form>
  )
}
