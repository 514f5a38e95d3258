import { Deliveries, type HistoryEvent, Outbox } from "@txn/domain"
import { dispatchEventsJobId, JobNames, type JobQueue, type QueueHandle } from "@txn/queue"
import * as Arr from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
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
const removeUnlocked = async (queue: QueueHandle, jobIds: ReadonlyArray<string>) => {
  await Promise.all(jobIds.map((jobId) => queue.remove(jobId)))
}

/**
 * Adds one dispatch job for the whole batch, keyed by its event ids: adding the same batch again
 * is a no-op. A batch holding events handed over before (stale) has its job removed first.
 */
const enqueueEvents = (
  events: JobQueue<"events">,
  batch: Arr.NonEmptyReadonlyArray<{ readonly id: string; readonly stale: boolean }>,
  settings: BackgroundSettings,
) =>
  enqueue(
    "enqueue events",
    async () => {
      const eventIds = Arr.map(batch, (event) => event.id)
      const jobId = dispatchEventsJobId(eventIds)
      if (batch.some((event) => event.stale)) await removeUnlocked(events, [jobId])
      return events.add(JobNames.dispatchEvents, { eventIds }, { ...eventJobOptions, jobId })
    },
    settings,
  )

/**
 * Moves a batch of outbox events to the events queue, as one job keyed by their ids, and marks
 * them relayed in the same database transaction as it locked them: if the queue refuses or does
 * not answer, nothing is marked and the next pass tries again. Adding a job whose id exists is a
 * no-op, so a relay that dies after enqueueing and before committing never enqueues twice.
 */
export const relayBatch = (events: JobQueue<"events">, settings: BackgroundSettings) =>
  Outbox.use((outbox) =>
    outbox.atomically(
      Effect.gen(function* () {
        const batch = yield* outbox.claimForRelay(settings.relayBatch, settings.relayStaleMs)
        if (!Arr.isReadonlyArrayNonEmpty(batch)) return 0
        yield* enqueueEvents(events, batch, settings)
        yield* outbox.markRelayed(batch)
        return batch.length
      }),
    ),
  )

/** What one pass over the history handed to the queues, in the order it enqueued them. */
export interface HistoryRelayed {
  readonly count: number
  /** Each event's id and when its change happened: with the time now, the relay's lag. */
  readonly events: ReadonlyArray<{ readonly id: string; readonly at: Date }>
}

/**
 * Moves the next batch of history events (after the stored position, in (xid, seq) order) to the
 * events queue, then advances the position, in one database transaction: if the queue refuses
 * or does not answer, the position stays and the next pass tries again; the batch's job is keyed
 * by its event ids, so adding it again is a no-op. Each is noted in `relayed_events` until its dispatch
 * finishes. Only one relay at a time holds the history; the others find nothing to do here.
 */
export const relayHistoryBatch = (events: JobQueue<"events">, settings: BackgroundSettings) =>
  Outbox.use((outbox) =>
    outbox.atomically(
      Effect.gen(function* () {
        const batch = yield* outbox.claimHistory(settings.relayBatch)
        if (!Arr.isReadonlyArrayNonEmpty(batch)) return relayedOf(batch)
        yield* outbox.recordRelayed(batch)
        yield* enqueueEvents(events, batch, settings)
        yield* outbox.advanceHistory(batch)
        return relayedOf(batch)
      }),
    ),
  )

/**
 * Hands over again the history events whose dispatch has not finished `relayStaleMs` after they
 * were enqueued (a queue that lost its data, a job failed for good). Returns their ids.
 */
export const relayStaleHistory = (events: JobQueue<"events">, settings: BackgroundSettings) =>
  Outbox.use((outbox) =>
    outbox.atomically(
      Effect.gen(function* () {
        const batch = yield* outbox.claimStaleHistory(settings.relayBatch, settings.relayStaleMs)
        if (!Arr.isReadonlyArrayNonEmpty(batch)) return []
        yield* enqueueEvents(events, batch, settings)
        yield* outbox.recordRelayed(batch)
        return batch.map((event) => event.id)
      }),
    ),
  )

const relayedOf = (batch: ReadonlyArray<HistoryEvent>): HistoryRelayed => ({
  count: batch.length,
  events: batch.map((event) => ({ id: event.id, at: event.at })),
})

/** Re-enqueues deliveries whose job a queue lost (overdue, unleased, still pending). */
export const reclaimDeliveries = (webhooks: JobQueue<"webhooks">, settings: BackgroundSettings) =>
  Deliveries.use((deliveries) =>
    deliveries.atomically(
      Effect.gen(function* () {
        const overdue = yield* deliveries.reclaimOverdue(settings.relayBatch, settings.relayStaleMs)
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
 * The relay. No writer notifies it (NOTIFY would serialize every commit): it looks again
 * `relayBusyPollMs` after a pass that found work, and after an idle pass waits twice as long as
 * before, up to `relayPollMs`, so an idle system still hands over a new event within that time.
 * Each pass empties the backlog batch by batch: the history, then the outbox (accounts,
 * transfers, exports), then (at most every `relayPollMs`) whatever a queue lost. Failures are logged and retried with a
 * growing pause; the relay itself never stops until interrupted. `onRelayed` sees every history
 * batch it enqueued, with the time it was enqueued (the bench's measure of the relay's lag).
 */
export const runRelay = (
  queues: { events: JobQueue<"events">; webhooks: JobQueue<"webhooks"> },
  settings: BackgroundSettings,
  onRelayed?: (relayed: HistoryRelayed, enqueuedAt: Date) => void,
) =>
  Effect.gen(function* () {
    // What a queue lost is looked for at most every `relayPollMs`, not on every busy pass.
    let lastSweep = 0
    const pass = Effect.gen(function* () {
      let relayed = 0
      for (;;) {
        const history = yield* relayHistoryBatch(queues.events, settings)
        if (history.count > 0) onRelayed?.(history, new Date())
        relayed += history.count
        if (history.count < settings.relayBatch) break
      }
      for (;;) {
        const count = yield* relayBatch(queues.events, settings)
        relayed += count
        if (count < settings.relayBatch) break
      }
      if (Date.now() - lastSweep < settings.relayPollMs) return relayed
      lastSweep = Date.now()
      for (;;) {
        const { length: count } = yield* relayStaleHistory(queues.events, settings)
        if (count > 0) yield* Effect.logWarning("Re-enqueued events a queue lost", { count })
        relayed += count
        if (count < settings.relayBatch) break
      }
      const reclaimed = yield* reclaimDeliveries(queues.webhooks, settings)
      if (reclaimed > 0)
        yield* Effect.logWarning("Re-enqueued deliveries a queue lost", { reclaimed })
      return relayed + reclaimed
    })

    let failures = 0
    let idle = settings.relayBusyPollMs
    for (;;) {
      const found = yield* pass.pipe(
        Effect.catchCause((cause) =>
          Effect.logWarning("Outbox relay failed; retrying", { cause: String(cause) }).pipe(
            Effect.as(undefined),
          ),
        ),
      )
      let pause: number
      if (found === undefined) {
        failures += 1
        pause = Math.min(settings.relayPollMs, 100 * 2 ** Math.min(failures, 10))
      } else if (found > 0) {
        failures = 0
        idle = settings.relayBusyPollMs
        pause = idle
      } else {
        failures = 0
        idle = Math.min(settings.relayPollMs, idle * 2)
        pause = idle
      }
      yield* Effect.sleep(Duration.millis(pause))
    }
  }).pipe(Effect.annotateLogs({ component: "relay" }), Effect.withSpan("Relay.run"))
