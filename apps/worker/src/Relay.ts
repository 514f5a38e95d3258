import { PgClient } from "@effect/sql-pg"
import { Deliveries, Outbox } from "@txn/db"
import { JobNames, type JobQueue } from "@txn/queue"
import { Duration, Effect, Queue, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { deliveryJobOptions, eventJobOptions } from "./jobOptions.ts"
import type { BackgroundSettings } from "./settings.ts"

/** Bounds a queue call: an unreachable Redis never answers, it only queues the command. */
const enqueue = <A>(what: string, call: () => Promise<A>, settings: BackgroundSettings) =>
  Effect.tryPromise({
    try: call,
    catch: (error) => new Error(`${what}: ${error instanceof Error ? error.message : error}`),
  }).pipe(
    Effect.timeoutOrElse({
      duration: Duration.millis(settings.enqueueTimeoutMs),
      orElse: () => Effect.fail(new Error(`${what}: no answer in ${settings.enqueueTimeoutMs} ms`)),
    }),
  )

/**
 * Adding a job whose id exists is a no-op even when that job failed for good (stalled too often,
 * retries spent while the database was down) and is kept for inspection: what the database still
 * calls undone would then never run again. Removing it first lets the add take; a job still
 * running is locked, so BullMQ keeps it and the add stays a no-op.
 */
const removeUnlocked = async (queue: JobQueue, jobIds: ReadonlyArray<string>) => {
  await Promise.all(jobIds.map((jobId) => queue.remove(jobId)))
}

/**
 * Moves a batch of outbox events to the events queue, each job keyed by its event's id, and marks
 * them relayed in the same database transaction as it locked them: if the queue refuses or does
 * not answer, nothing is marked and the next pass tries again. Adding a job whose id exists is a
 * no-op, so a relay that dies after enqueueing and before committing never enqueues twice.
 */
export const relayBatch = (events: JobQueue, settings: BackgroundSettings) =>
  SqlClient.SqlClient.use((sql) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const batch = yield* Outbox.claimForRelay(settings.relayBatch, settings.relayStaleMs)
        if (batch.length === 0) return 0
        yield* enqueue(
          "enqueue events",
          async () => {
            await removeUnlocked(
              events,
              batch.filter((event) => event.stale).map((event) => event.id),
            )
            return events.addBulk(
              batch.map((event) => ({
                name: JobNames.dispatchEvent,
                data: { eventId: event.id },
                opts: { ...eventJobOptions, jobId: event.id },
              })),
            )
          },
          settings,
        )
        yield* Outbox.markRelayed(batch)
        return batch.length
      }),
    ),
  )

/** Re-enqueues deliveries whose job a queue lost (overdue, unleased, still pending). */
export const reclaimDeliveries = (webhooks: JobQueue, settings: BackgroundSettings) =>
  SqlClient.SqlClient.use((sql) =>
    sql.withTransaction(
      Effect.gen(function* () {
        const overdue = yield* Deliveries.reclaimOverdueDeliveries(
          settings.relayBatch,
          settings.relayStaleMs,
        )
        if (overdue.length === 0) return 0
        yield* enqueue(
          "enqueue deliveries",
          async () => {
            await removeUnlocked(
              webhooks,
              overdue.map((delivery) => delivery.id),
            )
            return webhooks.addBulk(
              overdue.map((delivery) => ({
                name: JobNames.deliverWebhook,
                data: { deliveryId: delivery.id },
                opts: deliveryJobOptions(settings, delivery.id, delivery.attempts),
              })),
            )
          },
          settings,
        )
        return overdue.length
      }),
    ),
  )

/**
 * The relay: woken by the outbox triggers' NOTIFY, and every `relayPollMs` regardless (a missed
 * notification, a lost LISTEN connection, stale events to hand over again). Each pass empties
 * the backlog batch by batch. Failures are logged and retried with a growing pause; the relay
 * itself never stops until interrupted.
 */
export const runRelay = (
  queues: { events: JobQueue; webhooks: JobQueue },
  settings: BackgroundSettings,
) =>
  Effect.gen(function* () {
    const pg = yield* PgClient.PgClient
    const wake = yield* Queue.sliding<void>(1)

    // LISTEN on a connection of its own; if it drops, listen again (polling covers the gap).
    yield* Effect.scoped(
      Effect.gen(function* () {
        const notifications = yield* pg.listen(Outbox.outboxChannel)
        yield* Queue.offer(wake, undefined)
        return yield* Effect.forever(
          Queue.take(notifications).pipe(Effect.andThen(Queue.offer(wake, undefined))),
        )
      }),
    ).pipe(
      Effect.tapError((error) =>
        Effect.logWarning("Outbox LISTEN lost; listening again", { error: String(error) }),
      ),
      Effect.retry(Schedule.spaced(Duration.seconds(1))),
      Effect.forkChild,
    )

    const pass = Effect.gen(function* () {
      let relayed = 0
      for (;;) {
        const count = yield* relayBatch(queues.events, settings)
        relayed += count
        if (count < settings.relayBatch) break
      }
      const reclaimed = yield* reclaimDeliveries(queues.webhooks, settings)
      if (reclaimed > 0)
        yield* Effect.logWarning("Re-enqueued deliveries a queue lost", { reclaimed })
      return relayed
    })

    let failures = 0
    for (;;) {
      const ok = yield* pass.pipe(
        Effect.as(true),
        Effect.catchCause((cause) =>
          Effect.logWarning("Outbox relay failed; retrying", { cause: String(cause) }).pipe(
            Effect.as(false),
          ),
        ),
      )
      failures = ok ? 0 : failures + 1
      const pause = ok
        ? settings.relayPollMs
        : Math.min(settings.relayPollMs, 100 * 2 ** Math.min(failures, 10))
      // Sleep until a notification or the pause ends, whichever comes first.
      yield* Effect.raceFirst(Queue.take(wake), Effect.sleep(Duration.millis(pause)))
    }
  }).pipe(Effect.annotateLogs({ component: "relay" }), Effect.withSpan("Relay.run"))
