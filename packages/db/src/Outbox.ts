import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** The channel the outbox triggers notify on commit. */
export const outboxChannel = "txn_outbox"

export interface OutboxEvent {
  readonly seq: string
  readonly id: string
  readonly userId: string
  readonly type: string
  /** Handed to the queue before: its job may still be there, finished without dispatching it. */
  readonly stale: boolean
}

/**
 * Locks up to `limit` events for the relay: first those never handed to the queues, then those
 * handed over more than `staleAfterMs` ago whose job never finished (a queue that lost its data).
 * Run inside a transaction; SKIP LOCKED lets several relays share the work. Ordered by the
 * bigint column, not the text alias `seq` of the select list, which would put '10' before '9'.
 */
export const claimForRelay = (limit: number, staleAfterMs: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const fresh = yield* sql<OutboxEvent>`
      select seq::text as seq, id, user_id, type, false as stale from outbox
       where relayed_at is null
       order by outbox.seq
       limit ${limit}
       for update skip locked`
    if (fresh.length >= limit) return fresh
    const stale = yield* sql<OutboxEvent>`
      select seq::text as seq, id, user_id, type, true as stale from outbox
       where relayed_at is not null and dispatched_at is null
         and relayed_at < now() - make_interval(secs => ${staleAfterMs / 1000})
       order by relayed_at
       limit ${limit - fresh.length}
       for update skip locked`
    return [...fresh, ...stale]
  })

export const markRelayed = (events: ReadonlyArray<OutboxEvent>) =>
  SqlClient.SqlClient.use(
    (sql) => sql`
      update outbox set relayed_at = now()
       where seq = any(${`{${events.map((event) => event.seq).join(",")}}`}::bigint[])`,
  )

export interface StoredEvent {
  readonly id: string
  readonly userId: string
  readonly type: string
  readonly data: Record<string, unknown>
  readonly createdAt: Date
  readonly dispatchedAt: Date | null
}

export const findEvent = (id: string) =>
  SqlClient.SqlClient.use(
    (sql) => sql<StoredEvent>`
      select id, user_id, type, data, created_at, dispatched_at from outbox where id = ${id}`,
  ).pipe(Effect.map((rows) => rows[0]))

/**
 * One delivery per active webhook of the event's user subscribed to its type (or to `*`);
 * running it again adds none twice. Returns every delivery of the event still to be sent.
 */
export const createDeliveries = (event: StoredEvent) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // To the millisecond, as answers and list cursors carry it: a finer time would sort between
    // a cursor and the delivery it came from, and the next page would skip what lies there.
    yield* sql`
      insert into webhook_deliveries (id, webhook_id, event_id, next_attempt_at, created_at, updated_at)
      select txn_random_id('dlv'), w.id, ${event.id}, t.now, t.now, t.now
        from webhooks w, (select date_trunc('milliseconds', now()) as now) t
       where w.user_id = ${event.userId} and w.status = 'active'
         and (${event.type} = any(w.event_types) or '*' = any(w.event_types))
      on conflict (event_id, webhook_id) do nothing`
    const rows = yield* sql<{ readonly id: string }>`
      select id from webhook_deliveries where event_id = ${event.id} and status = 'pending'`
    return rows.map((row) => row.id)
  })

export const markDispatched = (id: string) =>
  SqlClient.SqlClient.use(
    (sql) =>
      sql`update outbox set dispatched_at = now() where id = ${id} and dispatched_at is null`,
  )
