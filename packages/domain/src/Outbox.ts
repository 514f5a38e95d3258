import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

/** An account, transfer or export event waiting in the outbox to be handed to the queues. */
export interface OutboxEvent {
  readonly seq: string
  readonly id: string
  readonly userId: string
  readonly type: string
  /** Handed to the queue before: its job may still be there, finished without dispatching it. */
  readonly stale: boolean
}

/** A transaction's history event handed to the relay: its id and, for the lag, its time. */
export interface HistoryEvent {
  readonly seq: string
  readonly xid: string
  readonly id: string
  readonly at: Date
  /** Handed to the queue before: its job may still be there, finished without dispatching it. */
  readonly stale: boolean
}

/** One event with its payload, wherever it is kept. */
export interface StoredEvent {
  readonly id: string
  readonly userId: string
  readonly type: string
  readonly data: Record<string, unknown>
  readonly createdAt: Date
  /** Always null for a history event: its dispatch leaves no record, and a rerun is harmless. */
  readonly dispatchedAt: Date | null
}

/** What dispatching a batch of events asks of the queues. */
export interface BatchDispatch {
  /** Every delivery of the batch's events still to be sent, those just created included. */
  readonly deliveries: ReadonlyArray<string>
  /** The exports whose `export.created` event is in the batch and not yet dispatched. */
  readonly exports: ReadonlyArray<string>
}

/**
 * The events on their way out: the transactions' history and the outbox of the other entities,
 * read by the relay that hands them to the queues and by the jobs that dispatch them. A claim
 * holds its events until the end of the `atomically` around it.
 */
export class Outbox extends Context.Service<
  Outbox,
  {
    /**
     * Up to `limit` outbox events for the relay: first those never handed to the queues, then
     * those handed over more than `staleAfterMs` ago whose job never finished.
     */
    readonly claimForRelay: (
      limit: number,
      staleAfterMs: number,
    ) => Effect.Effect<ReadonlyArray<OutboxEvent>>
    readonly markRelayed: (events: ReadonlyArray<OutboxEvent>) => Effect.Effect<void>
    /**
     * The next `limit` history events after the relay's position, in the order they committed;
     * none while another relay holds the history. Then `recordRelayed` and `advanceHistory`.
     */
    readonly claimHistory: (limit: number) => Effect.Effect<ReadonlyArray<HistoryEvent>>
    /** Notes the events as handed to the queues, before they are: see `markDispatched`. */
    readonly recordRelayed: (events: ReadonlyArray<HistoryEvent>) => Effect.Effect<void>
    /** Moves the relay's position past the last of `events` (in claim order). */
    readonly advanceHistory: (events: ReadonlyArray<HistoryEvent>) => Effect.Effect<void>
    /**
     * Up to `limit` history events handed to the queues more than `staleAfterMs` ago whose
     * dispatch never finished, oldest first; `recordRelayed` once they are enqueued again.
     */
    readonly claimStaleHistory: (
      limit: number,
      staleAfterMs: number,
    ) => Effect.Effect<ReadonlyArray<HistoryEvent>>
    /** One event with its payload; a transaction's as it stood right after that change. */
    readonly findEvent: (id: string) => Effect.Effect<StoredEvent | undefined>
    /**
     * One delivery per active webhook of the event's user subscribed to its type; running it
     * again adds none twice. Answers every delivery of the event still to be sent.
     */
    readonly createDeliveries: (event: StoredEvent) => Effect.Effect<ReadonlyArray<string>>
    /** `createDeliveries` for a batch of events by id, however many, and its exports to build. */
    readonly createBatchDeliveries: (ids: ReadonlyArray<string>) => Effect.Effect<BatchDispatch>
    /** Records that the events' dispatch finished. */
    readonly markDispatched: (ids: ReadonlyArray<string>) => Effect.Effect<void>
    /** `effect` in one database transaction: its claims and marks commit together, or none. */
    readonly atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("@txn/domain/Outbox") {}
