import {
  CreateWebhook,
  DeliveryStatus,
  ListDeliveries,
  ListWebhooks,
  UpdateWebhook,
  Webhook,
  WebhookId,
} from "@txn/domain"
import * as HttpApiEndpoint from "effect/http-api/HttpApiEndpoint"
import * as HttpApiGroup from "effect/http-api/HttpApiGroup"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Schema from "effect/Schema"
import {
  Authorization,
  created,
  exampled,
  idempotencyHeaders,
  Validation,
  withExamples,
  withoutKey,
} from "./common.ts"
import { errorsOf } from "./errors.ts"
import * as examples from "./examples.ts"

const path = { id: WebhookId }

/** A new endpoint with, this once, its signing secret. */
const CreatedWebhook = Schema.Struct({
  ...Webhook.fields,
  secret: Schema.String.annotate({
    description: "Signs every delivery; shown only in this answer",
  }),
}).annotate({
  identifier: "CreatedWebhook",
  examples: [
    { ...examples.webhook, secret: "whsec_Jp3vQ8x1Zr6tY2mK9wB4nL7cD0fH5sA8eG1iU3oV6bX" },
  ] as never,
})

const WebhookOut = exampled(Webhook, examples.webhook)

const WebhookPage = Schema.Struct({
  items: Schema.Array(WebhookOut),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
}).annotate({ identifier: "WebhookPage", examples: [examples.page(examples.webhook)] as never })

const Delivery = Schema.Struct({
  id: Schema.String,
  webhookId: WebhookId,
  eventId: Schema.String,
  eventType: Schema.String,
  status: DeliveryStatus,
  attempts: Schema.Number,
  lastStatusCode: Schema.NullOr(Schema.Number),
  lastError: Schema.NullOr(Schema.String),
  nextAttemptAt: Schema.NullOr(Schema.String),
  deliveredAt: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  log: Schema.Array(
    Schema.Struct({
      attempt: Schema.Number,
      at: Schema.String,
      statusCode: Schema.NullOr(Schema.Number),
      error: Schema.NullOr(Schema.String),
      durationMs: Schema.NullOr(Schema.Number),
    }),
  ),
}).annotate({ identifier: "Delivery", examples: [examples.delivery] as never })

const DeliveryPage = Schema.Struct({
  items: Schema.Array(Delivery),
  nextCursor: Schema.NullOr(Schema.String),
  hasMore: Schema.Boolean,
}).annotate({ identifier: "DeliveryPage", examples: [examples.page(examples.delivery)] as never })

const { id: _id, ...updateFields } = UpdateWebhook.fields
const { id: _webhook, ...deliveryQuery } = ListDeliveries.fields

export class WebhooksGroup extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.post("create", "/webhooks", {
      headers: idempotencyHeaders,
      payload: withExamples(withoutKey(CreateWebhook), {
        url: "https://example.com/txn-events",
        eventTypes: ["transaction.created", "transaction.posted"],
      }),
      success: created(CreatedWebhook),
      error: errorsOf(409, 422),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Register an endpoint for signed events",
        description: "Its secret is in this answer only.",
      }),
    ),
    HttpApiEndpoint.get("list", "/webhooks", {
      query: ListWebhooks,
      success: WebhookPage,
    }).annotateMerge(OpenApi.annotations({ summary: "List endpoints" })),
    HttpApiEndpoint.patch("update", "/webhooks/:id", {
      params: path,
      payload: withExamples(Schema.Struct(updateFields), { status: "disabled" }),
      success: WebhookOut,
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({
        summary: "Change an endpoint, pause it or turn it back on",
      }),
    ),
    HttpApiEndpoint.delete("delete", "/webhooks/:id", {
      params: path,
      success: exampled(Schema.Struct({ id: WebhookId, deleted: Schema.Literal(true) }), {
        id: examples.webhook.id,
        deleted: true,
      }),
      error: errorsOf(404),
    }).annotateMerge(OpenApi.annotations({ summary: "Delete an endpoint" })),
    HttpApiEndpoint.get("deliveries", "/webhooks/:id/deliveries", {
      params: path,
      query: deliveryQuery,
      success: DeliveryPage,
      error: errorsOf(404),
    }).annotateMerge(
      OpenApi.annotations({ summary: "An endpoint's deliveries and every attempt at each" }),
    ),
  )
  .middleware(Validation)
  .middleware(Authorization)
  .annotateMerge(OpenApi.annotations({ title: "Webhooks" })) {}
