import { Deliveries } from "@txn/domain"
import { type DeliverWebhooksJob, JobNames, type JobQueue } from "@txn/queue"
import type { Job } from "bullmq"
import { deliveryJobOptions } from "../jobOptions.ts"
import type { BackgroundSettings } from "../settings.ts"
import type { WebhookClient } from "../WebhookClient.ts"
import type { WorkerRuntime } from "../WorkerRuntime.ts"
import { leaseMs, sendDelivery } from "./deliverWebhook.ts"

/**
 * The first attempt of several deliveries at once: claimed in one statement, sent together, their
 * outcomes recorded in one statement once all have answered (or timed out, within their lease).
 * What needs more than that goes on as a job of its own, keyed by the delivery's id: a failed
 * delivery with attempts left (delayed until its next attempt is due, its retries then BullMQ's),
 * and a delivery this job could not claim (leased by another run, settled, its endpoint disabled:
 * that job tells which). A run that dies midway is run again: what it had recorded is settled,
 * what it had claimed is leased until its lease lapses, and both go to their own jobs, which find
 * them so.
 */
export const deliverWebhooks =
  (
    runtime: WorkerRuntime,
    settings: BackgroundSettings,
    client: WebhookClient,
    webhooks: JobQueue<"webhooks">,
  ) =>
  async (job: Job<DeliverWebhooksJob>) => {
    const { deliveryIds } = job.data
    const claimed = await runtime.runPromise(
      Deliveries.use((deliveries) =>
        deliveries.claimMany(deliveryIds, leaseMs(settings), settings.webhookAttempts),
      ),
    )
    const sent = await Promise.all(
      claimed.map((delivery) => sendDelivery(settings, client, delivery)),
    )
    const statuses = await runtime.runPromise(
      Deliveries.use((deliveries) =>
        deliveries.recordAttempts(claimed.map((delivery, i) => ({ delivery, outcome: sent[i]! }))),
      ),
    )
    const taken = new Set(claimed.map((delivery) => delivery.id))
    const own = [
      ...deliveryIds
        .filter((id) => !taken.has(id))
        .map((deliveryId) => ({ deliveryId, attemptsMade: 0, delay: 0 })),
      ...claimed.flatMap((delivery, i) =>
        statuses[i] === "pending"
          ? [
              {
                deliveryId: delivery.id,
                attemptsMade: delivery.attempt,
                // When the delivery log says its next attempt is due.
                delay: Math.max(0, (sent[i]!.nextAttemptAt?.getTime() ?? 0) - Date.now()),
              },
            ]
          : [],
      ),
    ]
    if (own.length > 0) {
      await webhooks.addBulk(
        own.map(({ deliveryId, attemptsMade, delay }) => ({
          name: JobNames.deliverWebhook,
          data: { deliveryId },
          opts: { ...deliveryJobOptions(settings, deliveryId, attemptsMade), delay },
        })),
      )
    }
    return {
      deliveries: deliveryIds.length,
      attempted: claimed.length,
      delivered: statuses.filter((status) => status === "delivered").length,
      failed: statuses.filter((status) => status === "failed").length,
      retrying: statuses.filter((status) => status === "pending").length,
      ownJobs: own.length,
    }
  }
