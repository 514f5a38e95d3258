import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { Page } from "./Common.ts"
import type { UserId, WebhookId } from "./Ids.ts"
import type {
  CreatedWebhook,
  Delivery,
  ListDeliveries,
  ListWebhooks,
  UpdateWebhook,
  Webhook,
} from "./Webhook.ts"

export class WebhookRepository extends Context.Service<
  WebhookRepository,
  {
    readonly count: (userId: UserId) => Effect.Effect<number>
    readonly insert: (webhook: CreatedWebhook, userId: UserId) => Effect.Effect<CreatedWebhook>
    readonly findById: (userId: UserId, id: WebhookId) => Effect.Effect<Option.Option<Webhook>>
    readonly list: (userId: UserId, input: ListWebhooks) => Effect.Effect<Page<Webhook>>
    readonly update: (userId: UserId, input: UpdateWebhook) => Effect.Effect<Option.Option<Webhook>>
    /** True when it existed; its pending deliveries go with it. */
    readonly delete: (userId: UserId, id: WebhookId) => Effect.Effect<boolean>
    readonly deliveries: (userId: UserId, input: ListDeliveries) => Effect.Effect<Page<Delivery>>
  }
>()("@txn/domain/WebhookRepository") {}
