import type { ReactNode } from "react"

/**
 * A labelled one-line text input in the house layout (`.field`), its id made from `id` and
 * `name`, as the forms' other fields are.
 */
export const TextField = (props: {
  readonly id: string
  readonly name: string
  readonly label: string
  readonly value: string
  readonly onChange: (value: string) => void
  readonly maxLength: number
  readonly className?: string
  /** `search` for a search box; `text` unless given. */
  readonly type?: "text" | "search"
}) => {
  const inputId = `${props.id}-${props.name}`
  return (
    <div className={props.className === undefined ? "field" : `field ${props.className}`}>
      <label htmlFor={inputId}>{props.label}</label>
      <input
        id={inputId}
        type={props.type ?? "text"}
        maxLength={props.maxLength}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </div>
  )
}

/**
 * A labelled amount in `currency`'s major unit (`.field`), with the currency as its hint and
 * `problem` (what is wrong with what was typed) read out with it.
 */
export const AmountField = (props: {
  readonly id: string
  readonly currency: string
  readonly value: string
  readonly onChange: (value: string) => void
  readonly problem: string | undefined
}) => {
  const field = (name: string) => `${props.id}-${name}`
  return (
    <div className="field">
      <label htmlFor={field("amount")}>Amount</label>
      <input
        id={field("amount")}
        type="text"
        inputMode="decimal"
        autoComplete="off"
        value={props.value}
        aria-invalid={props.problem === undefined ? undefined : true}
        aria-describedby={`${field("txn-amount-hint")} ${field("amount-problem")}`}
        onChange={(event) => props.onChange(event.target.value)}
      />
      <span id={field("txn-amount-hint")} className="hint">
        In {props.currency}
      </span>
      <span id={field("amount-problem")} className="txn-field-error">
        {props.problem ?? ""}
      </span>
    </div>
  )
}

/**
 * A labelled select in the house layout (`.field`), its id made from `id` and `name` and its
 * options its children; a `hint` is shown under it and read out with it, as is the element
 * `describedBy` names.
 */
export const SelectField = (props: {
  readonly id: string
  readonly name: string
  readonly label: string
  readonly value: string
  readonly onChange: (value: string) => void
  readonly disabled?: boolean
  readonly hint?: ReactNode
  readonly describedBy?: string
  readonly children: ReactNode
}) => {
  const selectId = `${props.id}-${props.name}`
  const describedBy = [
    ...(props.hint === undefined ? [] : [`${selectId}-hint`]),
    ...(props.describedBy === undefined ? [] : [props.describedBy]),
  ]
  return (
    <div className="field">
      <label htmlFor={selectId}>{props.label}</label>
      <select
        id={selectId}
        value={props.value}
        disabled={props.disabled}
        aria-describedby={describedBy.length === 0 ? undefined : describedBy.join(" ")}
        onChange={(event) => props.onChange(event.target.value)}
      >
        {props.children}
      </select>
      {props.hint === undefined ? null : (
        <span id={`${selectId}-hint`} className="hint">
          {props.hint}
        </span>
      )}
    </div>
  )
}
