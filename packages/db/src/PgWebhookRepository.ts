import {
  type CreatedWebhook,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryStatus,
  decodeCursor,
  defaultLimit,
  EventTypeFilter,
  type Webhook,
  WebhookId,
  WebhookRepository,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort } from "./DatabaseError.ts"
import { iso, isoOrNull, pageOf, rowCodec } from "./rows.ts"

/** A `webhooks` row as the driver returns it, under the domain's field names (see `rowCodec`). */
export const WebhookRow = Schema.Struct({
  id: WebhookId,
  url: Schema.String,
  description: Schema.NullOr(Schema.String),
  eventTypes: Schema.Array(EventTypeFilter),
  status: Schema.Literals(["active", "disabled"]),
  disabledReason: Schema.NullOr(Schema.String),
  failingSince: Schema.NullOr(Schema.Date),
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
})
type WebhookRow = typeof WebhookRow.Type

const codec = rowCodec(WebhookRow)

/** A decoded row is a Webhook, field for field; this fails to compile if the two drift. */
const toWebhook = (row: WebhookRow): Webhook => codec.decode(row) satisfies Webhook

/** The columns a Webhook is read from (the table also keeps its owner and signing secret). */
export const columns = codec.columns

interface DeliveryRow {
  readonly id: string
  readonly webhookId: string
  readonly eventId: string
  readonly eventType: string
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly lastStatusCode: number | null
  readonly lastError: string | null
  readonly nextAttemptAt: Date | null
  readonly deliveredAt: Date | null
  readonly createdAt: Date
  readonly log: ReadonlyArray<DeliveryAttempt>
}

const toDelivery = (row: DeliveryRow): Delivery => ({
  id: row.id,
  webhookId: row.webhookId as WebhookId,
  eventId: row.eventId,
  eventType: row.eventType,
  status: row.status,
  attempts: row.attempts,
  lastStatusCode: row.lastStatusCode,
  lastError: row.lastError,
  nextAttemptAt: isoOrNull(row.nextAttemptAt),
  deliveredAt: isoOrNull(row.deliveredAt),
  createdAt: iso(row.createdAt),
  log: row.log,
})

export const layer = Layer.effect(
  WebhookRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    const cols = sql.literal(columns)

    return WebhookRepository.of({
      count: (userId) =>
        sql<{ readonly count: number }>`
          select count(*)::int as count from webhooks where user_id = ${userId}`.pipe(
          Effect.map((rows) => rows[0]?.count ?? 0),
          port,
          Effect.withSpan("PgWebhookRepository.count"),
        ),

      insert: (webhook, userId) =>
        sql<WebhookRow>`
          insert into webhooks (id, user_id, url, description, event_types, secret, status,
                                created_at, updated_at)
          values (${webhook.id}, ${userId}, ${webhook.url}, ${webhook.description},
                  array(select jsonb_array_elements_text(${JSON.stringify(webhook.eventTypes)}::jsonb)),
                  ${webhook.secret}, 'active', ${webhook.createdAt}::timestamptz,
                  ${webhook.updatedAt}::timestamptz)
          returning ${cols}`.pipe(
          Effect.map(([row]): CreatedWebhook => ({ ...toWebhook(row!), secret: webhook.secret })),
          port,
          Effect.withSpan("PgWebhookRepository.insert"),
        ),

      findById: (userId, id) =>
        sql<WebhookRow>`select ${cols} from webhooks where id = ${id} and user_id = ${userId}`.pipe(
          Effect.map((rows) => Option.fromNullishOr(rows[0]).pipe(Option.map(toWebhook))),
          port,
          Effect.withSpan("PgWebhookRepository.findById"),
        ),

      list: (userId, input) => {
        const limit = input.limit ?? defaultLimit
        const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor)
        return sql<WebhookRow>`
          select ${cols} from webhooks
           where user_id = ${userId}
             ${after === undefined ? sql`` : sql`and (created_at, id) < (${after.at}::timestamptz, ${after.id})`}
           order by created_at desc, id desc
           limit ${limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows, limit, toWebhook, (webhook) => webhook.createdAt)),
          port,
          Effect.withSpan("PgWebhookRepository.list"),
        )
      },

      update: (userId, input) => {
        const sets = [
          ...(input.url === undefined ? [] : [sql`url = ${input.url}`]),
          ...(input.description === undefined ? [] : [sql`description = ${input.description}`]),
          ...(input.eventTypes === undefined
            ? []
            : [
                sql`event_types = array(select jsonb_array_elements_text(${JSON.stringify(input.eventTypes)}::jsonb))`,
              ]),
          // Turned back on, an endpoint starts with a clean record; paused, it says by whom.
          ...(input.status === "active"
            ? [sql`status = 'active'`, sql`disabled_reason = null`, sql`failing_since = null`]
            : input.status === "disabled"
              ? [
                  sql`status = 'disabled'`,
                  sql`disabled_reason = case when status = 'disabled' then disabled_reason
                                             else 'Disabled by its owner' end`,
                ]
              : []),
          sql`updated_at = now()`,
        ]
        return sql<WebhookRow>`
          update webhooks set ${sql.join(", ", false)(sets)}
           where id = ${input.id} and user_id = ${userId}
          returning ${cols}`.pipe(
          Effect.map((rows) => Option.fromNullishOr(rows[0]).pipe(Option.map(toWebhook))),
          port,
          Effect.withSpan("PgWebhookRepository.update"),
        )
      },

      delete: (userId, id) =>
        sql`delete from webhooks where id = ${id} and user_id = ${userId} returning id`.pipe(
          Effect.map((rows) => rows.length > 0),
          port,
          Effect.withSpan("PgWebhookRepository.delete"),
        ),

      deliveries: (userId, input) => {
        const limit = input.limit ?? defaultLimit
        const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor)
        const conditions = [
          sql`d.webhook_id = ${input.id}`,
          sql`w.user_id = ${userId}`,
          ...(input.status === undefined ? [] : [sql`d.status = ${input.status}`]),
          ...(after === undefined
            ? []
            : [sql`(d.created_at, d.id) < (${after.at}::timestamptz, ${after.id})`]),
        ]
        return sql<DeliveryRow>`
          select d.id, d.webhook_id, d.event_id, txn_event_type(d.event_id) as event_type,
                 d.status, d.attempts,
                 d.last_status_code, d.last_error, d.next_attempt_at, d.delivered_at, d.created_at,
                 coalesce((
                   select jsonb_agg(jsonb_build_object(
                            'attempt', a.attempt, 'at', txn_iso(a.at), 'statusCode', a.status_code,
                            'error', a.error, 'durationMs', a.duration_ms) order by a.attempt)
                     from webhook_attempts a where a.delivery_id = d.id), '[]'::jsonb) as log
            from webhook_deliveries d
            join webhooks w on w.id = d.webhook_id
           where ${sql.and(conditions)}
           order by d.created_at desc, d.id desc
           limit ${limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows, limit, toDelivery, (delivery) => delivery.createdAt)),
          port,
          Effect.withSpan("PgWebhookRepository.deliveries"),
        )
      },
    })
  }),
)
