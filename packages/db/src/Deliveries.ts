import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** What a delivery job needs to send one event to one endpoint. */
export interface ClaimedDelivery {
  readonly id: string
  readonly attempts: number
  readonly webhookId: string
  readonly url: string
  readonly secret: string
  readonly webhookStatus: "active" | "disabled"
  readonly eventId: string
  readonly eventType: string
  readonly eventData: Record<string, unknown>
  readonly eventCreatedAt: Date
}

export type Claim =
  | { readonly _tag: "Claimed"; readonly delivery: ClaimedDelivery }
  /** Already delivered or given up on, or its webhook was deleted: nothing left to do. */
  | { readonly _tag: "Settled" }
  /** Another run holds its lease until then. */
  | { readonly _tag: "Leased"; readonly until: Date }

/**
 * Takes the delivery's lease for `leaseMs`, so a second run of the same job (a stalled job run
 * again while the first still sends) cannot send it twice at once.
 */
export const claimDelivery = (id: string, leaseMs: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [claimed] = yield* sql<ClaimedDelivery>`
      with claimed as (
        update webhook_deliveries
           set lease_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
         where id = ${id} and status = 'pending' and (lease_until is null or lease_until < now())
        returning id, attempts, webhook_id, event_id
      )
      select c.id, c.attempts, c.webhook_id, w.url, w.secret, w.status as webhook_status,
             c.event_id, e.type as event_type, e.data as event_data,
             e.created_at as event_created_at
        from claimed c
        join webhooks w on w.id = c.webhook_id
        join outbox e on e.id = c.event_id`
    if (claimed !== undefined) return { _tag: "Claimed", delivery: claimed } as Claim
    const [row] = yield* sql<{ readonly status: string; readonly leaseUntil: Date | null }>`
      select status, lease_until from webhook_deliveries where id = ${id}`
    return (
      row?.status === "pending"
        ? { _tag: "Leased", until: row.leaseUntil ?? new Date() }
        : { _tag: "Settled" }
    ) as Claim
  })

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

/**
 * Logs the attempt and settles the delivery and its endpoint in one transaction: a success clears
 * the endpoint's failing streak; a failure starts or extends it, and a streak older than the
 * limit disables the endpoint, saying why. Returns the delivery's status afterwards.
 */
export const recordAttempt = (delivery: ClaimedDelivery, outcome: AttemptOutcome) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const attempt = delivery.attempts + 1
    const status = outcome.delivered
      ? "delivered"
      : outcome.nextAttemptAt === null
        ? "failed"
        : "pending"
    yield* sql`
      insert into webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
      values (${delivery.id}, ${attempt}, now(), ${outcome.statusCode}, ${outcome.error},
              ${outcome.durationMs})`
    yield* sql`
      update webhook_deliveries
         set attempts = ${attempt}, status = ${status}, last_status_code = ${outcome.statusCode},
             last_error = ${outcome.error}, lease_until = null, updated_at = now(),
             next_attempt_at = ${outcome.nextAttemptAt?.toISOString() ?? null}::timestamptz,
             delivered_at = case when ${outcome.delivered} then now() else null end
       where id = ${delivery.id}`
    if (outcome.delivered) {
      yield* sql`
        update webhooks set failing_since = null, updated_at = now()
         where id = ${delivery.webhookId} and failing_since is not null`
    } else {
      const lastError = outcome.error ?? `HTTP ${outcome.statusCode}`
      yield* sql`
        update webhooks
           set failing_since = coalesce(failing_since, now()),
               status = case when failing_since < ${outcome.disableIfFailingSince.toISOString()}::timestamptz
                             then 'disabled' else status end,
               disabled_reason = case when failing_since < ${outcome.disableIfFailingSince.toISOString()}::timestamptz
                                      then 'Disabled after failing every delivery since ' || txn_iso(failing_since)
                                           || '; last error: ' || ${lastError}
                                      else disabled_reason end,
               updated_at = now()
         where id = ${delivery.webhookId}`
    }
    return status
  }).pipe((effect) => SqlClient.SqlClient.use((sql) => sql.withTransaction(effect)))

/** A delivery its endpoint's disabling stopped: failed, without another attempt. */
export const abandonDelivery = (id: string, reason: string) =>
  SqlClient.SqlClient.use(
    (sql) => sql`
      update webhook_deliveries
         set status = 'failed', last_error = ${reason}, lease_until = null, next_attempt_at = null,
             updated_at = now()
       where id = ${id} and status = 'pending'`,
  )

/**
 * Pending deliveries whose next attempt is more than `staleAfterMs` overdue and not leased: their
 * job was lost (a queue that lost its data). Marks them due now and returns them for re-enqueueing.
 */
export const reclaimOverdueDeliveries = (limit: number, staleAfterMs: number) =>
  SqlClient.SqlClient.use(
    (sql) => sql<{ readonly id: string; readonly attempts: number }>`
      update webhook_deliveries set next_attempt_at = now(), updated_at = now()
       where id in (
         select id from webhook_deliveries
          where status = 'pending'
            and next_attempt_at < now() - make_interval(secs => ${staleAfterMs / 1000})
            and (lease_until is null or lease_until < now())
          order by next_attempt_at
          limit ${limit}
          for update skip locked)
      returning id, attempts`,
  )
