import {
  type AttemptOutcome,
  type ClaimedDelivery,
  Deliveries,
  type DeliveryClaim,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"
import type * as Statement from "effect/sql/Statement"
import { atPort, transactionAtPort } from "./DatabaseError.ts"

/** What the log says of an attempt that started and whose outcome never came back. */
export const interruptedAttempt = "Interrupted before its outcome was recorded"

/**
 * The claim of the deliveries `which` selects (a condition on `d`) that can be tried now: each
 * leased for `leaseMs`, its attempt counted and logged, an earlier attempt whose outcome never
 * came back marked interrupted; answers those claimed, with their events, in id order.
 */
const claimStatement = (
  sql: SqlClient.SqlClient,
  which: Statement.Fragment,
  leaseMs: number,
  maxAttempts: number,
) =>
  sql<ClaimedDelivery>`
    with claimed as (
      update webhook_deliveries d
         set attempts = d.attempts + 1,
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
        from webhooks w
       where ${which} and w.id = d.webhook_id and w.status = 'active'
         and d.status = 'pending' and (d.lease_until is null or d.lease_until < now())
         and d.attempts < ${maxAttempts}
      returning d.id, d.attempts as attempt, d.webhook_id, w.url, w.secret, d.event_id
    ),
    started as (
      insert into webhook_attempts (delivery_id, attempt, at)
      select id, attempt, now() from claimed
    ),
    interrupted as (
      update webhook_attempts a set error = ${interruptedAttempt}
        from claimed c
       where a.delivery_id = c.id and a.attempt < c.attempt
         and a.duration_ms is null and a.error is null
    )
    select c.id, c.attempt, c.webhook_id, c.url, c.secret, c.event_id,
           e.type as event_type, e.data as event_data, e.created_at as event_created_at
      from claimed c
      cross join lateral txn_event(c.event_id) e
     order by c.id`

/**
 * Takes the delivery's lease for `leaseMs` and counts and logs the attempt in the same
 * statement, before anything is sent: a worker killed in the middle of sending still leaves the
 * attempt counted, the next one goes out with the next number, and the log shows the lost one
 * as interrupted. The attempt number is also the lease's fencing token: a run whose lease
 * lapsed and was taken over cannot settle the delivery with its stale view (`recordAttempts`).
 * A delivery whose last allowed attempt was interrupted is failed instead of tried again.
 */
export const claimDelivery = (id: string, leaseMs: number, maxAttempts: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [claimed] = yield* claimStatement(sql, sql`d.id = ${id}`, leaseMs, maxAttempts)
    if (claimed !== undefined) return { _tag: "Claimed", delivery: claimed } as DeliveryClaim
    const [row] = yield* sql<{
      readonly status: string
      readonly leaseUntil: Date | null
      readonly leased: boolean
      readonly attempts: number
      readonly webhookStatus: string
    }>`
      select d.status, d.lease_until, coalesce(d.lease_until >= now(), false) as leased,
             d.attempts, w.status as webhook_status
        from webhook_deliveries d
        join webhooks w on w.id = d.webhook_id
       where d.id = ${id}`
    if (row === undefined || row.status !== "pending") return { _tag: "Settled" } as DeliveryClaim
    if (row.leased) return { _tag: "Leased", until: row.leaseUntil ?? new Date() } as DeliveryClaim
    if (row.webhookStatus !== "active") return { _tag: "Disabled" } as DeliveryClaim
    if (row.attempts >= maxAttempts) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const failed = yield* sql`
            update webhook_deliveries
               set status = 'failed', last_status_code = null, last_error = ${interruptedAttempt},
                   next_attempt_at = null, lease_until = null, updated_at = now()
             where id = ${id} and status = 'pending' and attempts >= ${maxAttempts}
               and (lease_until is null or lease_until < now())
            returning id`
          if (failed.length === 0) return
          yield* sql`
            update webhook_attempts set error = ${interruptedAttempt}
             where delivery_id = ${id} and duration_ms is null and error is null`
        }),
      )
      return { _tag: "Settled" } as DeliveryClaim
    }
    // Claimed by another run between the two statements: it holds the lease now.
    return { _tag: "Leased", until: new Date() } as DeliveryClaim
  })

/**
 * `claimDelivery` for several deliveries in one statement: claims, counts and logs the attempt of
 * each one that can be tried now (pending, not leased, its endpoint active, attempts left) and
 * answers those, with their events. Rows another transaction is claiming are skipped, not waited
 * for. Whatever it does not answer is for `claimDelivery` to look at one by one.
 */
export const claimDeliveries = (ids: ReadonlyArray<string>, leaseMs: number, maxAttempts: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* claimStatement(
      sql,
      sql`d.id in (select id from webhook_deliveries where id in ${sql.in(ids)}
                    order by id for update skip locked)`,
      leaseMs,
      maxAttempts,
    )
  })

/** The status a delivery is left in by an attempt's outcome, if its run still holds it. */
const statusAfter = (outcome: AttemptOutcome) =>
  outcome.delivered ? "delivered" : outcome.nextAttemptAt === null ? "failed" : "pending"

/**
 * Logs attempts' outcomes and settles their deliveries and endpoints in one statement (so one
 * round trip, atomic without a transaction of its own), however many there are: a success clears
 * its endpoint's failing streak; an endpoint whose settled attempts all failed starts or extends
 * its streak, and a streak older than the limit disables it, saying why. Each attempt's own log
 * line is always written. A delivery is settled by the run holding its latest attempt, or by any
 * run whose receiver answered 2xx (delivered is true whoever sent it, even after the delivery was
 * given up on); a run whose lease lapsed and was taken over changes nothing else and gets
 * `superseded`. Answers each delivery's status afterwards, in the order given.
 */
export const recordAttempts = (
  attempts: ReadonlyArray<{ readonly delivery: ClaimedDelivery; readonly outcome: AttemptOutcome }>,
) =>
  Effect.gen(function* () {
    if (attempts.length === 0) return []
    const sql = yield* SqlClient.SqlClient
    const rows = attempts.map(({ delivery, outcome }) => ({
      id: delivery.id,
      webhook_id: delivery.webhookId,
      attempt: delivery.attempt,
      status_code: outcome.statusCode,
      error: outcome.error,
      duration_ms: outcome.durationMs,
      delivered: outcome.delivered,
      next_attempt_at: outcome.nextAttemptAt?.toISOString() ?? null,
      status: statusAfter(outcome),
      last_error: outcome.error ?? `HTTP ${outcome.statusCode}`,
      since: outcome.disableIfFailingSince.toISOString(),
    }))
    const settled = yield* sql<{ readonly id: string }>`
      with outcome as (
        select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as o(
          id text, webhook_id text, attempt integer, status_code integer, error text,
          duration_ms integer, delivered boolean, next_attempt_at timestamptz, status text,
          last_error text, since timestamptz)
      ),
      logged as (
        update webhook_attempts a
           set status_code = o.status_code, error = o.error, duration_ms = o.duration_ms
          from outcome o
         where a.delivery_id = o.id and a.attempt = o.attempt
      ),
      settled as (
        update webhook_deliveries d
           set status = o.status, last_status_code = o.status_code, last_error = o.error,
               lease_until = null, updated_at = now(), next_attempt_at = o.next_attempt_at,
               delivered_at = case when o.delivered then now() else null end
          from outcome o
         where d.id = o.id
           and ((d.status = 'pending' and d.attempts = o.attempt)
                or (o.delivered and d.status <> 'delivered'))
        returning d.id, o.webhook_id, o.delivered, o.last_error, o.since
      ),
      -- Only once a delivery is settled does its endpoint's streak change.
      cleared as (
        update webhooks set failing_since = null, updated_at = now()
         where id in (select webhook_id from settled where delivered) and failing_since is not null
      ),
      failing as (
        update webhooks w
           set failing_since = coalesce(w.failing_since, now()),
               status = case when w.failing_since < f.since then 'disabled' else w.status end,
               disabled_reason = case when w.failing_since < f.since
                                      then 'Disabled after failing every delivery since ' || txn_iso(w.failing_since)
                                           || '; last error: ' || f.last_error
                                      else w.disabled_reason end,
               updated_at = now()
          from (select webhook_id, max(last_error) as last_error, min(since) as since
                  from settled group by webhook_id having not bool_or(delivered)) f
         where w.id = f.webhook_id
      )
      select id from settled`
    const done = new Set(settled.map((row) => row.id))
    return attempts.map(({ delivery, outcome }) =>
      done.has(delivery.id) ? statusAfter(outcome) : ("superseded" as const),
    )
  })

/** A delivery its endpoint's disabling stopped: failed, without another attempt. */
export const abandonDelivery = (id: string, reason: string) =>
  SqlClient.SqlClient.use((sql) =>
    sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`
          update webhook_deliveries
             set status = 'failed', last_error = ${reason}, lease_until = null,
                 next_attempt_at = null, updated_at = now()
           where id = ${id} and status = 'pending'`
        yield* sql`
          update webhook_attempts set error = ${interruptedAttempt}
           where delivery_id = ${id} and duration_ms is null and error is null`
      }),
    ),
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

/** The Deliveries port on this database; a failure that persists past the retries is a defect. */
export const layer = Layer.effect(
  Deliveries,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    const onThis = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      port(Effect.provideService(effect, SqlClient.SqlClient, sql))
    return Deliveries.of({
      claim: (id, leaseMs, maxAttempts) => onThis(claimDelivery(id, leaseMs, maxAttempts)),
      claimMany: (ids, leaseMs, maxAttempts) => onThis(claimDeliveries(ids, leaseMs, maxAttempts)),
      recordAttempts: (attempts) => onThis(recordAttempts(attempts)),
      abandon: (id, reason) => onThis(Effect.asVoid(abandonDelivery(id, reason))),
      reclaimOverdue: (limit, staleAfterMs) =>
        onThis(reclaimOverdueDeliveries(limit, staleAfterMs)),
      atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        transactionAtPort(sql)(effect) as Effect.Effect<A, E, R>,
    })
  }),
)
