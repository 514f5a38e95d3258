import * as Context from "effect/Context"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Schema from "effect/Schema"
import { Cursor, Limit, Text, Timestamp } from "./Common.ts"
import { IdempotencyKey } from "./Idempotency.ts"
import { WebhookId } from "./Ids.ts"
import { maxWebhookUrlLength, webhookUrlFault } from "./webhookUrl.ts"
import { eventTypes } from "./webhookWire.ts"

export { eventTypes }

export const EventType = Schema.Literals(eventTypes)
export type EventType = typeof EventType.Type

export const EventTypeFilter = Schema.Union([EventType, Schema.Literal("*")])
export type EventTypeFilter = typeof EventTypeFilter.Type

export { maxWebhooksPerUser } from "./webhookUrl.ts"

const urlFaults = {
  tooLong: `Expected a URL of at most ${maxWebhookUrlLength} characters`,
  notHttp: "Expected an absolute http or https URL",
  credentials: "Expected a URL without credentials; verify deliveries by their signature instead",
} as const

const isHttpUrl = (text: string): true | string => {
  const fault = webhookUrlFault(text)
  return fault === undefined ? true : urlFaults[fault]
}

export const WebhookUrl = Schema.String.pipe(Schema.check(Schema.makeFilter(isHttpUrl)))

/** An endpoint that receives signed events. Its secret is shown only when it is created. */
export const Webhook = Schema.Struct({
  id: WebhookId,
  url: Schema.String,
  description: Schema.NullOr(Schema.String),
  eventTypes: Schema.Array(EventTypeFilter),
  status: Schema.Literals(["active", "disabled"]),
  /** Why deliveries stopped, when they did. */
  disabledReason: Schema.NullOr(Schema.String),
  /** Since when every attempt has failed; null while deliveries succeed. */
  failingSince: Schema.NullOr(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
})
export type Webhook = typeof Webhook.Type

/** What `webhooks.create` answers: the endpoint and, this once, its signing secret. */
export interface CreatedWebhook extends Webhook {
  readonly secret: string
}

const EventTypes = Schema.Array(EventTypeFilter).pipe(
  Schema.check(
    Schema.makeFilter(
      (types: ReadonlyArray<string>) =>
        (types.length >= 1 && types.length <= eventTypes.length + 1) ||
        `Expected 1 to ${eventTypes.length + 1} event types`,
    ),
    Schema.makeFilter(
      (types: ReadonlyArray<string>) =>
        new Set(types).size === types.length || "Expected each event type once",
    ),
  ),
)

export const CreateWebhook = Schema.Struct({
  idempotencyKey: Schema.optionalKey(IdempotencyKey),
  url: WebhookUrl,
  description: Schema.optionalKey(Text(1000)),
  eventTypes: EventTypes,
})
export type CreateWebhook = typeof CreateWebhook.Type

/**
 * Any of the endpoint's own fields, and its status: `active` turns a disabled endpoint back on
 * (its failing streak forgotten), `disabled` pauses it.
 */
export const UpdateWebhook = Schema.Struct({
  id: WebhookId,
  url: Schema.optionalKey(WebhookUrl),
  description: Schema.optionalKey(Schema.NullOr(Text(1000))),
  eventTypes: Schema.optionalKey(EventTypes),
  status: Schema.optionalKey(Schema.Literals(["active", "disabled"])),
})
export type UpdateWebhook = typeof UpdateWebhook.Type

export const DeleteWebhook = Schema.Struct({ id: WebhookId })
export type DeleteWebhook = typeof DeleteWebhook.Type

export const ListWebhooks = Schema.Struct({
  limit: Schema.optionalKey(Limit),
  cursor: Schema.optionalKey(Cursor),
})
export type ListWebhooks = typeof ListWebhooks.Type

export const DeliveryStatus = Schema.Literals(["pending", "delivered", "failed"])
export type DeliveryStatus = typeof DeliveryStatus.Type

export const ListDeliveries = Schema.Struct({
  id: WebhookId,
  status: Schema.optionalKey(DeliveryStatus),
  limit: Schema.optionalKey(Limit),
  cursor: Schema.optionalKey(Cursor),
})
export type ListDeliveries = typeof ListDeliveries.Type

/**
 * One try at sending an event, from when it started: the receiver's status code, or why there
 * was none. An attempt in flight has neither yet, and no duration; one whose worker died before
 * recording its outcome says it was interrupted.
 */
export interface DeliveryAttempt {
  readonly attempt: number
  readonly at: string
  readonly statusCode: number | null
  readonly error: string | null
  readonly durationMs: number | null
}

/** One event for one endpoint, and every attempt at it. */
export interface Delivery {
  readonly id: string
  readonly webhookId: WebhookId
  readonly eventId: string
  readonly eventType: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly lastStatusCode: number | null
  readonly lastError: string | null
  readonly nextAttemptAt: string | null
  readonly deliveredAt: string | null
  readonly createdAt: string
  readonly log: ReadonlyArray<DeliveryAttempt>
}

/** `whsec_` and 256 random bits. */
export const newWebhookSecret = () =>
  `whsec_${Base64Url.encode(crypto.getRandomValues(new Uint8Array(32)))}`

/**
 * Which hosts webhooks may target. The address rules and the private-network setting live
 * outside the domain; deliveries check the resolved address again when they connect.
 */
export class WebhookTargetPolicy extends Context.Service<
  WebhookTargetPolicy,
  {
    /** Why webhooks may not be sent to `url`, or undefined when they may. */
    readonly refusal: (url: string) => string | undefined
  }
>()("@txn/domain/WebhookTargetPolicy") {}
