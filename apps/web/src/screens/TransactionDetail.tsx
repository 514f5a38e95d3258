import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import type { RouterOutputs, Transaction } from "@txn/client"
import { type ReactNode, useState } from "react"
import { describeError } from "../errors.ts"
import { money, when } from "../format.ts"
import { isTxnError, useTxn } from "../txn.tsx"
import { EditForm, type UpdateFields } from "./TransactionEditForm.tsx"
import { capitalized, statusLabel } from "./TransactionTable.tsx"
import { afterChange, historyKey, transactionKey } from "./transactionData.ts"

type TransactionEvent = RouterOutputs["transactions"]["history"][number]

/** One press of an action button, with the version shown when it was pressed. */
type Action =
  | { readonly kind: "post" | "void" | "reverse"; readonly expectedVersion: number }
  | { readonly kind: "update"; readonly expectedVersion: number; readonly fields: UpdateFields }

const eventLabels: Readonly<Record<TransactionEvent["kind"], string>> = {
  created: "Created",
  updated: "Updated",
  posted: "Posted",
  voided: "Voided",
  expired: "Expired (hold ran out)",
  reversed: "Reversed",
}

const show = (value: unknown): string => {
  if (value === null || value === undefined || value === "") return "none"
  if (typeof value === "string") return `“${value}”`
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
    return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k}=${String(v)}`).join(", ")
  }
  return String(value)
}

/**
 * The selected transaction: every field, its history, and what may be done to it now. Each action
 * sends the version shown here; a change made elsewhere since is a version conflict, and a live
 * change to it is announced with an offer to reload rather than swapped in under the person.
 */
export const TransactionDetail = (props: {
  readonly id: string
  readonly accountName: (accountId: string) => string
  /** The newest version the list has seen of it (live changes), if any. */
  readonly latestVersion: number | undefined
  readonly onClose: () => void
  readonly onChanged: (transaction: Transaction) => void
  /** A transaction this one's action created (a reversal). */
  readonly onCreated: (transaction: Transaction) => void
}) => {
  const { id } = props
  const txn = useTxn()
  const queries = useQueryClient()
  const transaction = useQuery({
    queryKey: transactionKey(id),
    queryFn: ({ signal }) => txn.transactions.get.query({ id }, { signal }),
  })
  const history = useQuery({
    queryKey: historyKey(id),
    queryFn: ({ signal }) => txn.transactions.history.query({ id }, { signal }),
  })
  const [editing, setEditing] = useState(false)
  const [done, setDone] = useState<string | undefined>()

  const action = useMutation({
    mutationFn: async (
      press: Action,
    ): Promise<{ readonly changed: Transaction; readonly reversal?: Transaction }> => {
      const base = { id, expectedVersion: press.expectedVersion }
      switch (press.kind) {
        case "post":
          return { changed: await txn.transactions.post.mutate(base) }
        case "void":
          return { changed: await txn.transactions.void.mutate(base) }
        case "update":
          return { changed: await txn.transactions.update.mutate({ ...base, ...press.fields }) }
        case "reverse": {
          const { original, reversal } = await txn.transactions.reverse.mutate(base)
          return { changed: original, reversal }
        }
      }
    },
    onSuccess: async ({ changed, reversal }, press) => {
      props.onChanged(changed)
      if (reversal !== undefined) props.onCreated(reversal)
      setDone(
        press.kind === "update"
          ? `Saved (now at version ${changed.version}).`
          : `${reversal === undefined ? "Done" : `Reversed by ${reversal.id}`}: the transaction is now ${changed.status} (version ${changed.version}).`,
      )
      if (press.kind === "update") setEditing(false)
      await afterChange(queries, changed)
    },
  })

  const reload = async () => {
    action.reset()
    setDone(undefined)
    await Promise.all([
      queries.refetchQueries({ queryKey: transactionKey(id) }),
      queries.refetchQueries({ queryKey: historyKey(id) }),
    ])
  }

  const t = transaction.data
  const press = (kind: "post" | "void" | "reverse") => {
    if (t === undefined) return
    setDone(undefined)
    action.mutate({ kind, expectedVersion: t.version })
  }

  const conflict = isTxnError(action.error, "VersionConflict")
  const stale =
    t !== undefined && props.latestVersion !== undefined && props.latestVersion > t.version

  let body: ReactNode
  if (transaction.isPending) {
    body = <p aria-busy="true">Loading transaction…</p>
  } else if (transaction.isError) {
    body = (
      <p role="alert" className="error">
        {describeError(transaction.error)}
      </p>
    )
  } else {
    const tx = transaction.data
    const canPost = tx.status === "pending"
    const canReverse = tx.status === "posted" && tx.reversalOf === null
    body = (
      <>
        <dl className="txn-fields">
          <Field label="ID">
            <code>{tx.id}</code>
          </Field>
          <Field label="Account">
            {props.accountName(tx.accountId)} <code>{tx.accountId}</code>
          </Field>
          <Field label="Direction">{capitalized(tx.direction)}</Field>
          <Field label="Amount">{money(tx.amount, tx.currency)}</Field>
          <Field label="Currency">{tx.currency}</Field>
          <Field label="Status">{statusLabel(tx.status)}</Field>
          <Field label="Version">{tx.version}</Field>
          <Field label="Description">{tx.description ?? "None"}</Field>
          <Field label="Category">{tx.category ?? "None"}</Field>
          <Field label="Counterparty">{tx.counterparty ?? "None"}</Field>
          <Field label="Reference">{tx.reference ?? "None"}</Field>
          <Field label="Occurred at">
            <time dateTime={tx.occurredAt}>{when(tx.occurredAt)}</time>
          </Field>
          {tx.expiresAt !== null || tx.status === "pending" ? (
            <Field label="Expires at">
              {tx.expiresAt === null ? (
                "Never (held until posted or voided)"
              ) : (
                <time dateTime={tx.expiresAt}>{when(tx.expiresAt)}</time>
              )}
            </Field>
          ) : null}
          <Field label="Metadata">
            {Object.keys(tx.metadata).length === 0 ? (
              "None"
            ) : (
              <ul className="txn-metadata">
                {Object.entries(tx.metadata).map(([key, value]) => (
                  <li key={key}>
                    <code>{key}</code>: {value}
                  </li>
                ))}
              </ul>
            )}
          </Field>
          {tx.reversalOf === null ? null : (
            <Field label="Reversal of">
              <code>{tx.reversalOf}</code>
            </Field>
          )}
          {tx.reversedBy === null ? null : (
            <Field label="Reversed by">
              <code>{tx.reversedBy}</code>
            </Field>
          )}
          {tx.transferId === null ? null : (
            <Field label="Transfer">
              <code>{tx.transferId}</code>
            </Field>
          )}
          <Field label="Created at">
            <time dateTime={tx.createdAt}>{when(tx.createdAt)}</time>
          </Field>
          <Field label="Updated at">
            <time dateTime={tx.updatedAt}>{when(tx.updatedAt)}</time>
          </Field>
        </dl>

        <div className="row txn-actions">
          {canPost ? (
            <>
              <button type="button" disabled={action.isPending} onClick={() => press("post")}>
                Post
              </button>
              <button type="button" disabled={action.isPending} onClick={() => press("void")}>
                Void
              </button>
            </>
          ) : null}
          {canReverse ? (
            <button type="button" disabled={action.isPending} onClick={() => press("reverse")}>
              Reverse
            </button>
          ) : null}
          {editing ? null : (
            <button
              type="button"
              className="secondary"
              disabled={action.isPending}
              onClick={() => {
                action.reset()
                setDone(undefined)
                setEditing(true)
              }}
            >
              Edit
            </button>
          )}
        </div>
        {canReverse ? (
          <p className="hint">
            Reverse records a posted {tx.direction === "debit" ? "credit" : "debit"} of the whole
            amount, {money(tx.amount, tx.currency)}.
          </p>
        ) : null}
        {tx.status === "pending" ? (
          <p className="hint">Post settles the hold; Void releases it.</p>
        ) : null}

        {editing ? (
          <EditForm
            transaction={tx}
            pending={action.isPending}
            onCancel={() => {
              action.reset()
              setEditing(false)
            }}
            onSave={(fields) => {
              setDone(undefined)
              action.mutate({ kind: "update", expectedVersion: tx.version, fields })
            }}
          />
        ) : null}

        {action.isError ? (
          <p role="alert" className="error">
            {describeError(action.error, tx.currency)}
          </p>
        ) : null}
        {stale && !conflict ? (
          <p className="txn-stale">
            This transaction changed since it was shown here (it is now at version{" "}
            {props.latestVersion}). Reload it before acting on it.
          </p>
        ) : null}
        {conflict || stale ? (
          <button type="button" onClick={reload}>
            Reload
          </button>
        ) : null}
        <p role="status" className="success">
          {done ?? ""}
        </p>
      </>
    )
  }

  return (
    <section aria-label="Transaction details" className="txn-detail panel">
      <div className="txn-detail-head">
        <h2>Transaction details</h2>
        <button type="button" className="secondary" onClick={props.onClose}>
          Close details
        </button>
      </div>
      {body}
      <h3>History</h3>
      {history.isPending ? (
        <p aria-busy="true">Loading history…</p>
      ) : history.isError ? (
        <p role="alert" className="error">
          {describeError(history.error)}
        </p>
      ) : (
        <ol aria-label="History" className="txn-history">
          {history.data.map((event) => (
            <li key={`${event.version}-${event.seq}`}>
              <strong>{eventLabels[event.kind]}</strong>{" "}
              <time dateTime={event.at}>{when(event.at)}</time> · version {event.version} · by{" "}
              <code>{event.actor}</code>
              {event.kind === "created" ? null : <Changes changes={event.changes} />}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

const Field = (props: { readonly label: string; readonly children: ReactNode }) => (
  <div className="txn-field">
    <dt>{props.label}</dt>
    <dd>{props.children}</dd>
  </div>
)

const Changes = (props: { readonly changes: TransactionEvent["changes"] }) => {
  const entries = Object.entries(props.changes)
  if (entries.length === 0) return null
  return (
    <ul className="txn-changes">
      {entries.map(([field, change]) => (
        <li key={field}>
          {field}: {show(change.from)} → {show(change.to)}
        </li>
      ))}
    </ul>
  )
}
