import { createHmac } from "node:crypto"
import { type AttemptOutcome, type ClaimedDelivery, Deliveries } from "@txn/domain"
import { webhookHeaders } from "@txn/domain/webhookWire"
import type { DeliverWebhookJob } from "@txn/queue"
import { DelayedError, type Job } from "bullmq"
import { DeliveryFailed } from "../jobOptions.ts"
import { type BackgroundSettings, retryDelayMs } from "../settings.ts"
import { type WebhookClient, WebhookTargetRefused } from "../WebhookClient.ts"
import type { WorkerRuntime } from "../WorkerRuntime.ts"

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as `verifyWebhook` checks it. */
export const signatureOf = (secret: string, body: string, unixSeconds: number) =>
  `t=${unixSeconds},v1=${createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex")}`

const connectionFailed =
  "Connection failed: unknown host, no connection, or an address webhooks may not reach"

/**
 * Why a request got no HTTP status, in a line the delivery log can show. Only what the URL itself
 * says and whether the time ran out: an unknown name, a refused or reset connection, a TLS
 * failure and a name resolving to an address webhooks may not reach all read the same, so the
 * log cannot map a network (which names exist inside it, which ports answer).
 */
const describe = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `No answer within ${timeoutMs} ms`
  }
  if (error instanceof WebhookTargetRefused) return `Target not allowed: ${error.message}`
  return connectionFailed
}

/**
 * Sends a claimed delivery's event to its endpoint, signed, and answers the attempt's outcome for
 * `Deliveries.recordAttempts`: a 2xx answer delivers it; any other answer, a redirect, a timeout or a
 * network error is a failed attempt, with the time of the next one if attempts are left. The event
 * id is in the body and in the `Txn-Event-Id` header, the same on every attempt, so a receiver can
 * drop duplicates.
 */
export const sendDelivery = async (
  settings: BackgroundSettings,
  client: WebhookClient,
  delivery: ClaimedDelivery,
): Promise<AttemptOutcome> => {
  const body = JSON.stringify({
    id: delivery.eventId,
    type: delivery.eventType,
    createdAt: delivery.eventCreatedAt.toISOString(),
    data: delivery.eventData,
  })
  const attempt = delivery.attempt
  const started = performance.now()
  let statusCode: number | null = null
  let error: string | null = null
  try {
    const response = await client.post(delivery.url, {
      body,
      signal: AbortSignal.timeout(settings.webhookTimeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": "txn-webhooks/1",
        [webhookHeaders.signature]: signatureOf(
          delivery.secret,
          body,
          Math.floor(Date.now() / 1000),
        ),
        [webhookHeaders.eventId]: delivery.eventId,
        [webhookHeaders.eventType]: delivery.eventType,
        [webhookHeaders.deliveryId]: delivery.id,
        [webhookHeaders.attempt]: String(attempt),
      },
    })
    statusCode = response.status
    if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}`
  } catch (cause) {
    error = describe(cause, settings.webhookTimeoutMs)
  }
  const delivered = error === null
  return {
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
    delivered,
    nextAttemptAt:
      delivered || attempt >= settings.webhookAttempts
        ? null
        : new Date(Date.now() + retryDelayMs(settings, attempt)),
    disableIfFailingSince: new Date(Date.now() - settings.webhookDisableAfterMs),
  }
}

/** How long a run holds a claimed delivery: long enough to send and record one attempt. */
export const leaseMs = (settings: BackgroundSettings) => settings.webhookTimeoutMs + 5_000

/**
 * Sends one event to one endpoint (see `sendDelivery`) and records the outcome; a failed attempt is
 * retried by BullMQ when the delivery log says its next attempt is due (`backoffStrategy`), until
 * the attempts run out. The attempt is counted when it is claimed,
 * before the request leaves, so `Txn-Delivery-Attempt` counts every try, one cut short by a crash
 * included.
 */
export const deliverWebhook =
  (runtime: WorkerRuntime, settings: BackgroundSettings, client: WebhookClient) =>
  async (job: Job<DeliverWebhookJob>, token?: string) => {
    const { deliveryId } = job.data
    // A killed run's lease lapses after this.
    const claim = await runtime.runPromise(
      Deliveries.use((deliveries) =>
        deliveries.claim(deliveryId, leaseMs(settings), settings.webhookAttempts),
      ),
    )
    if (claim._tag === "Settled") return { deliveryId, status: "settled" }
    if (claim._tag === "Leased") {
      // A run killed mid-send left its lease: wait it out without spending an attempt.
      await job.moveToDelayed(claim.until.getTime() + 100, token)
      throw new DelayedError()
    }
    if (claim._tag === "Disabled") {
      await runtime.runPromise(
        Deliveries.use((deliveries) => deliveries.abandon(deliveryId, "The webhook is disabled")),
      )
      return { deliveryId, status: "failed" }
    }
    const delivery = claim.delivery
    const outcome = await sendDelivery(settings, client, delivery)
    const [status] = await runtime.runPromise(
      Deliveries.use((deliveries) => deliveries.recordAttempts([{ delivery, outcome }])),
    )
    // Thrown, BullMQ retries it when the log says (`backoffStrategy`); the attempt is in the log.
    if (status === "pending") {
      throw new DeliveryFailed(
        `Attempt ${delivery.attempt} failed: ${outcome.error}`,
        outcome.nextAttemptAt ?? new Date(),
      )
    }
    return { deliveryId, status, attempt: delivery.attempt }
  }
