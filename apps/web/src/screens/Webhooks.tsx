import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query"
import type { RouterInputs, Webhook } from "@txn/client"
import { type FormEvent, useId, useRef, useState } from "react"
import { describeError } from "../errors.ts"
import { newKey, when } from "../format.ts"
import { useTxn } from "../txn.tsx"
import {
  eventTypesLabel,
  maxWebhooks,
  type WebhookEventType,
  webhookEventTypes,
  webhookInput,
} from "./webhookForm.ts"
import "./webhooks.css"
import { Deliveries } from "./WebhookDeliveries.tsx"

type ApiEventType = RouterInputs["webhooks"]["create"]["eventTypes"][number]
/** Compile-time check: the checkboxes are exactly the event types the API takes. */
export const everyEventType: [ApiEventType] extends [WebhookEventType]
  ? [WebhookEventType] extends [ApiEventType]
    ? true
    : never
  : never = true

/** One endpoint: its fields, and buttons to see its deliveries, pause or resume it, delete it. */
const EndpointRow = (props: {
  readonly webhook: Webhook
  readonly showing: boolean
  readonly onShowDeliveries: () => void
  readonly onDeleted: () => void
}) => {
  const txn = useTxn()
  const queries = useQueryClient()
  const { webhook } = props
  const [confirming, setConfirming] = useState(false)
  const toggle = useMutation({
    mutationFn: (status: "active" | "disabled") =>
      txn.webhooks.update.mutate({ id: webhook.id, status }),
    onSettled: () => queries.invalidateQueries({ queryKey: ["webhooks"] }),
  })
  const remove = useMutation({
    mutationFn: () => txn.webhooks.delete.mutate({ id: webhook.id }),
    onSuccess: props.onDeleted,
    onSettled: () => queries.invalidateQueries({ queryKey: ["webhooks"] }),
  })
  const error = toggle.error ?? remove.error
  const disabled = webhook.status === "disabled"
  return (
    <tr className={props.showing ? "webhook-selected" : undefined}>
      <td className="webhook-url">{webhook.url}</td>
      <td>{webhook.description ?? <span className="hint">None</span>}</td>
      <td>{eventTypesLabel(webhook.eventTypes)}</td>
      <td>
        <span className={`badge webhook-status-${webhook.status}`}>{webhook.status}</span>
        {webhook.disabledReason === null ? null : (
          <span className="webhook-note">{webhook.disabledReason}</span>
        )}
        {webhook.failingSince === null ? null : (
          <span className="webhook-note webhook-failing">
            Failing since {when(webhook.failingSince)}
          </span>
        )}
      </td>
      <td>{when(webhook.createdAt)}</td>
      <td>
        <div className="webhook-actions">
          <button
            type="button"
            className="secondary"
            aria-pressed={props.showing}
            onClick={props.onShowDeliveries}
          >
            Deliveries
          </button>
          <button
            type="button"
            className="secondary"
            disabled={toggle.isPending}
            onClick={() => toggle.mutate(disabled ? "active" : "disabled")}
          >
            {disabled ? "Enable" : "Disable"}
          </button>
          {confirming ? (
            <>
              <button
                type="button"
                className="webhook-danger"
                disabled={remove.isPending}
                onClick={() => remove.mutate()}
              >
                Confirm delete
              </button>
              <button
                type="button"
                className="secondary"
                disabled={remove.isPending}
                onClick={() => setConfirming(false)}
              >
                Cancel
              </button>
            </>
          ) : (
            <button type="button" className="secondary" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
        </div>
        {error === null ? null : (
          <p role="alert" className="error">
            {describeError(error)}
          </p>
        )}
      </td>
    </tr>
  )
}

/** The signing secret of the endpoint just added: shown this once, with a button to copy it. */
const Secret = (props: { readonly secret: string; readonly onDone: () => void }) => {
  const [copied, setCopied] = useState<"copied" | "failed" | undefined>()
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret)
      setCopied("copied")
    } catch {
      setCopied("failed")
    }
  }
  return (
    <div className="panel webhook-secret">
      <p>
        Webhook added. Its signing secret, to verify each delivery's <code>txn-signature</code>:
      </p>
      <p className="webhook-secret-value">
        <code>{props.secret}</code>
        <button type="button" onClick={copy}>
          Copy
        </button>
        {copied === "copied" ? <span className="success">Copied.</span> : null}
        {copied === "failed" ? (
          <span className="error">Could not copy: select the secret and copy it yourself.</span>
        ) : null}
      </p>
      <p>
        <strong>Keep it now: it will not be shown again.</strong>
      </p>
      <button type="button" className="secondary" onClick={props.onDone}>
        Done
      </button>
    </div>
  )
}

/** The Webhooks screen: the endpoints, a form to add one, and the deliveries of one. */
export default function Webhooks() {
  const txn = useTxn()
  const queries = useQueryClient()
  const ids = useId()
  const [url, setUrl] = useState("")
  const [description, setDescription] = useState("")
  const [types, setTypes] = useState<ReadonlySet<WebhookEventType>>(new Set())
  const [problem, setProblem] = useState<{ field: string; text: string } | undefined>()
  const [selected, setSelected] = useState<string | undefined>()
  const endpointsHeading = useRef<HTMLHeadingElement>(null)

  const list = useQuery({
    queryKey: ["webhooks", "list"],
    queryFn: ({ signal }) => txn.webhooks.list.query({ limit: 100 }, { signal }),
  })
  const create = useMutation({
    mutationFn: (input: RouterInputs["webhooks"]["create"]) => txn.webhooks.create.mutate(input),
    onSuccess: () => {
      setUrl("")
      setDescription("")
      setTypes(new Set())
    },
    onSettled: () => queries.invalidateQueries({ queryKey: ["webhooks"] }),
  })

  const endpoints = list.data?.items ?? []
  const shown = endpoints.find((webhook) => webhook.id === selected)

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const result = webhookInput({ url, description, eventTypes: types })
    if (!result.ok) {
      setProblem({ field: result.field, text: result.problem })
      return
    }
    setProblem(undefined)
    create.reset()
    // One key per press: the client's retries of this press reuse it, a new press gets another.
    create.mutate({ ...result.input, idempotencyKey: newKey() })
  }

  const toggleType = (type: WebhookEventType, on: boolean) =>
    setTypes((old) => {
      const next = new Set(old)
      if (on) next.add(type)
      else next.delete(type)
      return next
    })

  const error = problem?.text ?? (create.error === null ? undefined : describeError(create.error))
  const all = types.has("*")

  return (
    <div className="webhooks">
      <h1>Webhooks</h1>
      <p className="hint">
        Endpoints receive a signed <code>POST</code> for each event they subscribe to; failed
        deliveries are retried for about 34 hours.
      </p>

      <h2 ref={endpointsHeading} tabIndex={-1}>
        Endpoints{" "}
        <span className="hint">
          ({endpoints.length} of {maxWebhooks})
        </span>
      </h2>
      {list.error === null ? null : (
        <p role="alert" className="error">
          {describeError(list.error)}
        </p>
      )}
      <div className="webhook-table-wrap">
        <table aria-label="Webhook endpoints">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Description</th>
              <th scope="col">Event types</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.length === 0 ? (
              <tr>
                <td colSpan={6} className="hint">
                  {list.isPending ? "Loading…" : "No endpoints yet: add one below."}
                </td>
              </tr>
            ) : (
              endpoints.map((webhook) => (
                <EndpointRow
                  key={webhook.id}
                  webhook={webhook}
                  showing={webhook.id === selected}
                  onShowDeliveries={() =>
                    setSelected((old) => (old === webhook.id ? undefined : webhook.id))
                  }
                  onDeleted={() => {
                    setSelected((old) => (old === webhook.id ? undefined : old))
                    endpointsHeading.current?.focus()
                  }}
                />
              ))
            )}
          </tbody>
        </table>
      </div>

      {shown === undefined ? null : (
        <Deliveries key={shown.id} webhook={shown} onClose={() => setSelected(undefined)} />
      )}

      <form aria-label="New webhook" className="panel webhook-form" onSubmit={submit} noValidate>
        <h2>New webhook</h2>
        <div className="row">
          <div className="field webhook-url-field">
            <label htmlFor={`${ids}-url`}>URL</label>
            <input
              id={`${ids}-url`}
              type="url"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              placeholder="https://example.com/hooks/txn"
              maxLength={2048}
              value={url}
              onChange={(event) => setUrl(event.target.value)}
              aria-invalid={problem?.field === "url" ? true : undefined}
            />
          </div>
          <div className="field webhook-description-field">
            <label htmlFor={`${ids}-description`}>Description</label>
            <input
              id={`${ids}-description`}
              maxLength={1000}
              value={description}
              onChange={(event) => setDescription(event.target.value)}
              aria-invalid={problem?.field === "description" ? true : undefined}
            />
          </div>
        </div>
        <fieldset className="webhook-types">
          <legend>Event types</legend>
          {webhookEventTypes.map((type) => {
            const id = `${ids}-type-${type}`
            return (
              <div key={type} className="webhook-type">
                <input
                  id={id}
                  type="checkbox"
                  checked={types.has(type)}
                  disabled={type !== "*" && all}
                  onChange={(event) => toggleType(type, event.target.checked)}
                  aria-describedby={type === "*" ? `${ids}-all-hint` : undefined}
                />
                <label htmlFor={id}>{type}</label>
                {type === "*" ? (
                  <span id={`${ids}-all-hint`} className="hint">
                    every event type
                  </span>
                ) : null}
              </div>
            )
          })}
        </fieldset>
        <div className="row">
          <button type="submit" disabled={create.isPending}>
            Add webhook
          </button>
          {endpoints.length >= maxWebhooks ? (
            <p className="hint">You have {maxWebhooks} endpoints, the most allowed.</p>
          ) : null}
        </div>
        {error === undefined ? null : (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>

      <div role="status" className="webhook-secret-region">
        {create.data === undefined ? null : (
          <Secret secret={create.data.secret} onDone={() => create.reset()} />
        )}
      </div>
    </div>
  )
}
