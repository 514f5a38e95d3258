import type { RouterInputs, Transaction } from "@txn/client"
import { type FormEvent, useId, useState } from "react"
import { TextField } from "../fields.tsx"

export type UpdateFields = Omit<RouterInputs["transactions"]["update"], "id" | "expectedVersion">

/** `key=value` lines as metadata, or what is wrong with them. */
export const parseMetadata = (
  text: string,
): { readonly metadata: Record<string, string> } | { readonly error: string } => {
  const metadata: Record<string, string> = {}
  const lines = text.split("\n")
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue
    const at = line.indexOf("=")
    const key = at < 0 ? "" : line.slice(0, at).trim()
    if (key === "") return { error: `Line ${index + 1}: write key=value.` }
    if (key.length > 40) return { error: `Line ${index + 1}: a key has at most 40 characters.` }
    if (Object.hasOwn(metadata, key)) return { error: `Line ${index + 1}: "${key}" is repeated.` }
    const value = line.slice(at + 1).trim()
    if (value.length > 500) {
      return { error: `Line ${index + 1}: a value has at most 500 characters.` }
    }
    metadata[key] = value
  }
  if (Object.keys(metadata).length > 50) return { error: "At most 50 keys." }
  return { metadata }
}

const metadataText = (metadata: Readonly<Record<string, string>>) =>
  Object.entries(metadata)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")

const sameMetadata = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  Object.keys(a).length === Object.keys(b).length &&
  Object.entries(a).every(([key, value]) => Object.hasOwn(b, key) && b[key] === value)

/** The descriptive fields, the only ones an update may change. */
export const EditForm = (props: {
  readonly transaction: Transaction
  readonly pending: boolean
  readonly onSave: (fields: UpdateFields) => void
  readonly onCancel: () => void
}) => {
  const t = props.transaction
  const id = useId()
  const [description, setDescription] = useState(t.description ?? "")
  const [category, setCategory] = useState(t.category ?? "")
  const [counterparty, setCounterparty] = useState(t.counterparty ?? "")
  const [reference, setReference] = useState(t.reference ?? "")
  const [metadata, setMetadata] = useState(metadataText(t.metadata))
  const [problem, setProblem] = useState<string | undefined>()
  const [metadataProblem, setMetadataProblem] = useState<string | undefined>()

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const parsed = parseMetadata(metadata)
    if ("error" in parsed) {
      setMetadataProblem(parsed.error)
      return
    }
    setMetadataProblem(undefined)
    const orNull = (s: string) => (s.trim() === "" ? null : s)
    const fields: { -readonly [K in keyof UpdateFields]: UpdateFields[K] } = {}
    if (orNull(description) !== t.description) fields.description = orNull(description)
    if (orNull(category) !== t.category) fields.category = orNull(category)
    if (orNull(counterparty) !== t.counterparty) fields.counterparty = orNull(counterparty)
    if (orNull(reference) !== t.reference) fields.reference = orNull(reference)
    if (!sameMetadata(parsed.metadata, t.metadata)) fields.metadata = parsed.metadata
    if (Object.keys(fields).length === 0) {
      setProblem("Nothing changed: edit a field, or cancel.")
      return
    }
    setProblem(undefined)
    props.onSave(fields)
  }

  const field = (name: string) => `${id}-${name}`
  return (
    <form aria-label="Edit transaction" className="txn-edit" onSubmit={submit}>
      <TextField
        id={id}
        name="description"
        label="Description"
        maxLength={1000}
        value={description}
        onChange={setDescription}
      />
      <TextField
        id={id}
        name="category"
        label="Category"
        maxLength={100}
        value={category}
        onChange={setCategory}
      />
      <TextField
        id={id}
        name="counterparty"
        label="Counterparty"
        maxLength={200}
        value={counterparty}
        onChange={setCounterparty}
      />
      <TextField
        id={id}
        name="reference"
        label="Reference"
        maxLength={200}
        value={reference}
        onChange={setReference}
      />
      <div className="field">
        <label htmlFor={field("metadata")}>Metadata</label>
        <textarea
          id={field("metadata")}
          rows={3}
          value={metadata}
          aria-invalid={metadataProblem === undefined ? undefined : true}
          aria-describedby={`${field("metadata-hint")} ${field("metadata-problem")}`}
          onChange={(event) => setMetadata(event.target.value)}
        />
        <span id={field("metadata-hint")} className="hint">
          One key=value a line
        </span>
        <span id={field("metadata-problem")} className="txn-field-error">
          {metadataProblem ?? ""}
        </span>
      </div>
      <p className="hint">Amounts, accounts and status never change through an edit.</p>
      {problem === undefined ? null : <p className="txn-field-error">{problem}</p>}
      <div className="row">
        <button type="submit" disabled={props.pending}>
          Save
        </button>
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
