import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"

/** What a delivery job needs to send one event to one endpoint. */
export interface ClaimedDelivery {
  readonly id: string
  /** This attempt's number (the first is 1), counted when it was claimed, before anything is sent. */
  readonly attempt: number
  readonly webhookId: string
  readonly url: string
  readonly secret: string
  readonly eventId: string
  readonly eventType: string
  readonly eventData: Record<string, unknown>
  readonly eventCreatedAt: Date
}

export type DeliveryClaim =
  | { readonly _tag: "Claimed"; readonly delivery: ClaimedDelivery }
  /** Already delivered or given up on, or its webhook was deleted: nothing left to do. */
  | { readonly _tag: "Settled" }
  /** Another run holds its lease until then. */
  | { readonly _tag: "Leased"; readonly until: Date }
  /** Its endpoint is disabled: no attempt is made. */
  | { readonly _tag: "Disabled" }

export interface AttemptOutcome {
  readonly statusCode: number | null
  readonly error: string | null
  readonly durationMs: number
  readonly delivered: boolean
  /** When the next attempt is due; null when this was the last one. */
  readonly nextAttemptAt: Date | null
  /** An endpoint failing since before this is disabled. */
  readonly disableIfFailingSince: Date
}

/** A delivery's status after an attempt was recorded; `superseded` if another run took it over. */
export type DeliveryStatusAfter = "delivered" | "failed" | "pending" | "superseded"

/**
 * The webhook delivery log: each delivery's lease, attempts and outcome, the one record of when
 * its next attempt is due.
 */
export class Deliveries extends Context.Service<
  Deliveries,
  {
    /**
     * Takes the delivery's lease for `leaseMs` and counts and logs the attempt before anything is
     * sent; the attempt number fences a run whose lease lapsed. A delivery whose last allowed
     * attempt was interrupted is failed instead of tried again.
     */
    readonly claim: (
      id: string,
      leaseMs: number,
      maxAttempts: number,
    ) => Effect.Effect<DeliveryClaim>
    /**
     * `claim` for several deliveries at once: those that can be tried now, with their events.
     * What it does not answer is for `claim` to look at one by one.
     */
    readonly claimMany: (
      ids: ReadonlyArray<string>,
      leaseMs: number,
      maxAttempts: number,
    ) => Effect.Effect<ReadonlyArray<ClaimedDelivery>>
    /**
     * Logs attempts' outcomes and settles their deliveries and endpoints (a streak of failures
     * past the limit disables an endpoint, saying why). Answers each delivery's status, in order.
     */
    readonly recordAttempts: (
      attempts: ReadonlyArray<{
        readonly delivery: ClaimedDelivery
        readonly outcome: AttemptOutcome
      }>,
    ) => Effect.Effect<ReadonlyArray<DeliveryStatusAfter>>
    /** A delivery its endpoint's disabling stopped: failed, without another attempt. */
    readonly abandon: (id: string, reason: string) => Effect.Effect<void>
    /**
     * Pending deliveries more than `staleAfterMs` overdue and not leased (a queue lost their job),
     * marked due now, for re-enqueueing. Held until the end of the `atomically` around it.
     */
    readonly reclaimOverdue: (
      limit: number,
      staleAfterMs: number,
    ) => Effect.Effect<ReadonlyArray<{ readonly id: string; readonly attempts: number }>>
    /** `effect` in one database transaction. */
    readonly atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("@txn/domain/Deliveries") {}
