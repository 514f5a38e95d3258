/**
 * The Webhooks screen's pure parts: the event types an endpoint may subscribe to, the "New
 * webhook" form's checks (the API's own rules for a URL, description and event types), and a
 * delivery's last attempt. No React, no DOM, no client: tested in Node.
 */

import { maxWebhooksPerUser, maxWebhookUrlLength, webhookUrlFault } from "@txn/domain/webhookUrl"
import { eventTypes } from "@txn/domain/webhookWire"

/** Every event type, in the API's order, then `*`: all of them. */
export const webhookEventTypes = ["*", ...eventTypes] as const
export type WebhookEventType = (typeof webhookEventTypes)[number]

/** How many endpoints one user may have (the API refuses more). */
export const maxWebhooks = maxWebhooksPerUser

const urlFaults = {
  tooLong: `URL: at most ${maxWebhookUrlLength} characters.`,
  notHttp: "URL: enter an absolute http or https address, such as https://example.com/hooks.",
  credentials:
    "URL: leave out the user name and password; check deliveries by their signature instead.",
} as const

/**
 * What is wrong with `text` as a webhook URL by the API's own rules, in words, or undefined.
 * Which hosts are reachable the API checks.
 */
export const webhookUrlProblem = (text: string): string | undefined => {
  if (text === "") return "URL: enter the address that should receive the events."
  const fault = webhookUrlFault(text)
  return fault === undefined ? undefined : urlFaults[fault]
}

export interface WebhookFormValues {
  readonly url: string
  readonly description: string
  readonly eventTypes: ReadonlySet<WebhookEventType>
}

export interface WebhookInput {
  url: string
  description?: string
  eventTypes: Array<WebhookEventType>
}

export type WebhookFormResult =
  | { readonly ok: true; readonly input: WebhookInput }
  | {
      readonly ok: false
      readonly field: "url" | "description" | "eventTypes"
      readonly problem: string
    }

/**
 * The form as `webhooks.create`'s input: the URL trimmed, an empty description left out, the
 * event types in the API's order (`*` alone when it is chosen: it means all of them). Or the
 * first problem, by field.
 */
export const webhookInput = (values: WebhookFormValues): WebhookFormResult => {
  const url = values.url.trim()
  const urlProblem = webhookUrlProblem(url)
  if (urlProblem !== undefined) return { ok: false, field: "url", problem: urlProblem }
  const description = values.description.trim()
  if (description.length > 1000) {
    return { ok: false, field: "description", problem: "Description: at most 1000 characters." }
  }
  const eventTypes: Array<WebhookEventType> = values.eventTypes.has("*")
    ? ["*"]
    : webhookEventTypes.filter((type) => values.eventTypes.has(type))
  if (eventTypes.length === 0) {
    return { ok: false, field: "eventTypes", problem: "Event types: choose at least one." }
  }
  return {
    ok: true,
    input: { url, eventTypes, ...(description === "" ? {} : { description }) },
  }
}

/** An endpoint's event types as one line. */
export const eventTypesLabel = (types: ReadonlyArray<string>) =>
  types.includes("*") ? "All (*)" : types.join(", ")

/** The parts of a delivery its last attempt is read from. */
export interface DeliveryAttempts {
  readonly log: ReadonlyArray<{ readonly attempt: number; readonly at: string }>
}

/** When the delivery was last tried (the latest attempt's start), or undefined if never. */
export const lastAttemptAt = (delivery: DeliveryAttempts): string | undefined => {
  let last: { readonly attempt: number; readonly at: string } | undefined
  for (const entry of delivery.log) {
    if (last === undefined || entry.attempt > last.attempt) last = entry
  }
  return last?.at
}
