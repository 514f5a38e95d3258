import { keepPreviousData, useQuery } from "@tanstack/react-query"
import type { RouterInputs, Webhook } from "@txn/client"
import { useId, useState } from "react"
import { describeError } from "../errors.ts"
import { SelectField } from "../fields.tsx"
import { when } from "../format.ts"
import { useTxn } from "../txn.tsx"
import { lastAttemptAt } from "./webhookForm.ts"
import "./webhooks.css"

type DeliveryStatus = NonNullable<RouterInputs["webhooks"]["deliveries"]["status"]>
const deliveryStatuses: ReadonlyArray<DeliveryStatus> = ["pending", "delivered", "failed"]
const deliveriesPerPage = 20

/** The delivery log of one endpoint, newest first, a page at a time, refreshed every 5 s. */
export const Deliveries = (props: { readonly webhook: Webhook; readonly onClose: () => void }) => {
  const txn = useTxn()
  const ids = useId()
  const { id } = props.webhook
  const [status, setStatus] = useState<DeliveryStatus | "">("")
  // The cursors of the pages before this one: the last is this page's, none for the first.
  const [cursors, setCursors] = useState<ReadonlyArray<string>>([])
  const cursor = cursors.at(-1)
  const page = useQuery({
    queryKey: ["webhooks", "deliveries", id, status, cursor ?? null],
    queryFn: ({ signal }) =>
      txn.webhooks.deliveries.query(
        {
          id,
          limit: deliveriesPerPage,
          ...(status === "" ? {} : { status }),
          ...(cursor === undefined ? {} : { cursor }),
        },
        { signal },
      ),
    refetchInterval: 5_000,
    placeholderData: keepPreviousData,
  })
  const items = page.data?.items ?? []
  const nextCursor = page.data?.hasMore === true ? page.data.nextCursor : null
  return (
    <section className="panel webhook-deliveries" aria-labelledby={`${ids}-title`}>
      <div className="webhook-deliveries-head">
        <h2 id={`${ids}-title`}>
          Deliveries to <span className="webhook-url">{props.webhook.url}</span>
        </h2>
        <button type="button" className="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
      <div className="row">
        <SelectField
          id={ids}
          name="status"
          label="Delivery status"
          value={status}
          onChange={(value) => {
            setStatus(value as DeliveryStatus | "")
            setCursors([])
          }}
        >
          <option value="">All deliveries</option>
          {deliveryStatuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
        <p className="hint">Newest first; refreshed every 5 seconds.</p>
      </div>
      {page.error === null ? null : (
        <p role="alert" className="error">
          {describeError(page.error)}
        </p>
      )}
      <div className="webhook-table-wrap">
        <table aria-label="Deliveries" aria-busy={page.isFetching && page.isPlaceholderData}>
          <thead>
            <tr>
              <th scope="col">Event type</th>
              <th scope="col">Event id</th>
              <th scope="col">Status</th>
              <th scope="col" className="amount">
                Attempts
              </th>
              <th scope="col" className="amount">
                Response status
              </th>
              <th scope="col">Last attempt</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {items.length === 0 ? (
              <tr>
                <td colSpan={7} className="hint">
                  {page.isPending ? "Loading…" : "No deliveries yet."}
                </td>
              </tr>
            ) : (
              items.map((delivery) => {
                const last = lastAttemptAt(delivery)
                return (
                  <tr key={delivery.id}>
                    <td>{delivery.eventType}</td>
                    <td className="mono">{delivery.eventId}</td>
                    <td>
                      <span className={`badge webhook-delivery-${delivery.status}`}>
                        {delivery.status}
                      </span>
                      {delivery.status === "pending" && delivery.nextAttemptAt !== null ? (
                        <span className="webhook-note">
                          Next try {when(delivery.nextAttemptAt)}
                        </span>
                      ) : null}
                      {delivery.deliveredAt === null ? null : (
                        <span className="webhook-note">{when(delivery.deliveredAt)}</span>
                      )}
                    </td>
                    <td className="amount">{delivery.attempts}</td>
                    <td className="amount">{delivery.lastStatusCode ?? "—"}</td>
                    <td>{last === undefined ? "Not yet" : when(last)}</td>
                    <td className="webhook-error">{delivery.lastError ?? ""}</td>
                  </tr>
                )
              })
            )}
          </tbody>
        </table>
      </div>
      {cursors.length === 0 && nextCursor === null ? null : (
        <div className="webhook-paging">
          <button
            type="button"
            className="secondary"
            disabled={cursors.length === 0}
            onClick={() => setCursors((old) => old.slice(0, -1))}
          >
            Previous page
          </button>
          <span className="hint">Page {cursors.length + 1}</span>
          <button
            type="button"
            className="secondary"
            disabled={nextCursor === null || page.isPlaceholderData}
            onClick={() => {
              if (nextCursor !== null) setCursors((old) => [...old, nextCursor])
            }}
          >
            Next page
          </button>
        </div>
      )}
    </section>
  )
}
