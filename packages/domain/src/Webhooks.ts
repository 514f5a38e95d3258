import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Page } from "./Common.ts"
import { type Forbidden, type IdempotencyKeyReused, NotFound, ValidationError } from "./Errors.ts"
import { ensureSecretKey } from "./Grant.ts"
import { IdempotencyStore, idempotent, type MaybeReplayed } from "./Idempotency.ts"
import { newWebhookId, type UserId, type WebhookId } from "./Ids.ts"
import {
  type CreatedWebhook,
  type CreateWebhook,
  type DeleteWebhook,
  type Delivery,
  type ListDeliveries,
  type ListWebhooks,
  maxWebhooksPerUser,
  newWebhookSecret,
  type UpdateWebhook,
  type Webhook,
  WebhookTargetPolicy,
} from "./Webhook.ts"
import { WebhookRepository } from "./WebhookRepository.ts"

/**
 * Webhook endpoint use cases, on behalf of one user, through a secret API key only: a client
 * token (in a browser) may neither see nor manage webhooks, which receive all of the user's data.
 */
export class Webhooks extends Context.Service<
  Webhooks,
  {
    readonly create: (
      userId: UserId,
      input: CreateWebhook,
    ) => Effect.Effect<
      MaybeReplayed<CreatedWebhook>,
      ValidationError | IdempotencyKeyReused | Forbidden
    >
    readonly list: (userId: UserId, input: ListWebhooks) => Effect.Effect<Page<Webhook>, Forbidden>
    readonly update: (
      userId: UserId,
      input: UpdateWebhook,
    ) => Effect.Effect<Webhook, NotFound | ValidationError | Forbidden>
    readonly delete: (
      userId: UserId,
      input: DeleteWebhook,
    ) => Effect.Effect<{ readonly id: WebhookId; readonly deleted: true }, NotFound | Forbidden>
    readonly deliveries: (
      userId: UserId,
      input: ListDeliveries,
    ) => Effect.Effect<Page<Delivery>, NotFound | Forbidden>
  }
>()("@txn/domain/Webhooks") {
  static readonly layer = Layer.effect(
    Webhooks,
    Effect.gen(function* () {
      const webhooks = yield* WebhookRepository
      const idempotency = yield* IdempotencyStore
      const targets = yield* WebhookTargetPolicy

      const manage = "see or manage webhooks"

      const checkTarget = Effect.fn("Webhooks.checkTarget")(function* (url: string) {
        const refusal = targets.refusal(url)
        if (refusal !== undefined) {
          return yield* ValidationError.fromIssues([{ path: ["url"], message: refusal }])
        }
      })

      const record = Effect.fn("Webhooks.record")(function* (userId: UserId, input: CreateWebhook) {
        if ((yield* webhooks.count(userId)) >= maxWebhooksPerUser) {
          return yield* ValidationError.fromIssues([
            {
              path: [],
              message: `A user may have at most ${maxWebhooksPerUser} webhooks; delete one first`,
            },
          ])
        }
        const now = new Date().toISOString()
        return yield* webhooks.insert(
          {
            id: newWebhookId(),
            url: input.url,
            description: input.description ?? null,
            eventTypes: input.eventTypes,
            status: "active",
            disabledReason: null,
            failingSince: null,
            secret: newWebhookSecret(),
            createdAt: now,
            updatedAt: now,
          },
          userId,
        )
      })

      return Webhooks.of({
        create: Effect.fn("Webhooks.create")(function* (userId, input) {
          yield* ensureSecretKey(manage)
          yield* checkTarget(input.url)
          return yield* idempotent(
            idempotency,
            userId,
            "webhooks.create",
            input,
            record(userId, input),
          )
        }),
        list: Effect.fn("Webhooks.list")(function* (userId, input) {
          yield* ensureSecretKey(manage)
          return yield* webhooks.list(userId, input)
        }),
        update: Effect.fn("Webhooks.update")(function* (userId, input) {
          yield* ensureSecretKey(manage)
          if (input.url !== undefined) yield* checkTarget(input.url)
          const updated = yield* webhooks.update(userId, input)
          if (Option.isNone(updated)) return yield* NotFound.of("webhook", input.id)
          return updated.value
        }),
        delete: Effect.fn("Webhooks.delete")(function* (userId, input) {
          yield* ensureSecretKey(manage)
          if (!(yield* webhooks.delete(userId, input.id))) {
            return yield* NotFound.of("webhook", input.id)
          }
          return { id: input.id, deleted: true } as const
        }),
        deliveries: Effect.fn("Webhooks.deliveries")(function* (userId, input) {
          yield* ensureSecretKey(manage)
          const found = yield* webhooks.findById(userId, input.id)
          if (Option.isNone(found)) return yield* NotFound.of("webhook", input.id)
          return yield* webhooks.deliveries(userId, input)
        }),
      })
    }),
  )
}
