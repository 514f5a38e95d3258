import {
  type BatchDispatch,
  type HistoryEvent,
  Outbox,
  type OutboxEvent,
  type StoredEvent,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "./DatabaseError.ts"

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

/**
 * A history event's id: `evt_t` and its sequence number in 25 base-36 digits. Fixed width, so
 * ids sort as the numbers do; never an outbox row's id, whose 26 characters are hexadecimal.
 * `txn_event_id` in SQL computes the same.
 */
export const historyEventId = (seq: string | bigint) =>
  `evt_t${BigInt(seq).toString(36).padStart(25, "0")}`

const historyEventPattern = /^evt_t[0-9a-z]{25}$/

/** The sequence number behind a history event's id, or undefined for an outbox event's. */
export const historySeqOf = (id: string): string | undefined => {
  if (!historyEventPattern.test(id)) return undefined
  let n = 0n
  for (const digit of id.slice(5)) n = n * 36n + BigInt(Number.parseInt(digit, 36))
  return n <= 9_223_372_036_854_775_807n ? n.toString() : undefined
}

/**
 * One event with its payload. A history event's is folded from the history up to its version
 * (`txn_transaction_event_data`): the transaction as it stood right after that change, whatever
 * happened to it since.
 */
export const findEvent = (id: string) =>
  SqlClient.SqlClient.use((sql) => {
    const seq = historySeqOf(id)
    return seq === undefined
      ? sql<StoredEvent>`
          select id, user_id, type, data, created_at, dispatched_at from outbox where id = ${id}`
      : sql<StoredEvent>`
          select ${id} as id, e.user_id, 'transaction.' || e.kind as type,
                 txn_transaction_event_data(e) as data, e.at as created_at,
                 null::timestamptz as dispatched_at
            from transaction_events e where e.seq = ${seq}::bigint`
  }).pipe(Effect.map((rows) => rows[0]))

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

/**
 * Records that an event's dispatch finished. For a history event, removes its `relayed_events`
 * row; the insert first waits for a relay transaction still committing that row (its job can
 * start before the commit), so the delete after it never misses the row and leaves it behind.
 */
export const markDispatched = (id: string) => markBatchDispatched([id])

const textArray = (values: ReadonlyArray<string>) => `{${values.join(",")}}`

/** A batch's history events (by sequence number, ascending) and outbox events (by id). */
const splitBatch = (ids: ReadonlyArray<string>) => {
  const history: Array<{ readonly id: string; readonly seq: string }> = []
  const outbox: Array<string> = []
  for (const id of ids) {
    const seq = historySeqOf(id)
    if (seq === undefined) outbox.push(id)
    else history.push({ id, seq })
  }
  history.sort((a, b) =>
    BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0,
  )
  return { history, outbox }
}

/**
 * `createDeliveries` for a batch of events in one statement, however many: one delivery per
 * active webhook of each event's user subscribed to its type (or to `*`), none twice however
 * often it runs, and every delivery of the batch still pending. An event whose user has no such
 * webhook costs an index probe. Outbox events already dispatched get none; the outbox's
 * `export.created` events also name their export (one more statement, only when the batch holds
 * outbox events). Committed before any job is enqueued: a delivery job never finds its row missing.
 */
export const createBatchDeliveries = (ids: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const { history, outbox } = splitBatch(ids)
    // Inserted in (event, webhook) order, so two overlapping batches take their locks alike.
    const rows = yield* sql<{ readonly id: string }>`
      with batch as (
        select b.id, 'transaction.' || e.kind as type, e.user_id
          from unnest(${textArray(history.map((event) => event.id))}::text[],
                      ${textArray(history.map((event) => event.seq))}::bigint[])
                 b(id, seq)
          join transaction_events e on e.seq = b.seq
        union all
        select o.id, o.type, o.user_id from outbox o
         where o.id = any(${textArray(outbox)}::text[]) and o.dispatched_at is null
      ), created as (
        insert into webhook_deliveries (id, webhook_id, event_id, next_attempt_at, created_at, updated_at)
        select txn_random_id('dlv'), w.id, b.id, t.now, t.now, t.now
          from batch b
          join webhooks w on w.user_id = b.user_id and w.status = 'active'
                         and (b.type = any(w.event_types) or '*' = any(w.event_types)),
               (select date_trunc('milliseconds', now()) as now) t
         order by b.id, w.id
        on conflict (event_id, webhook_id) do nothing
        returning id
      )
      select id from created
      union
      select d.id from webhook_deliveries d
       where d.event_id = any(${textArray(ids)}::text[]) and d.status = 'pending'`
    if (outbox.length === 0) return { deliveries: rows.map((row) => row.id), exports: [] }
    const exports = yield* sql<{ readonly exportId: string }>`
      select data -> 'export' ->> 'id' as export_id from outbox
       where id = any(${textArray(outbox)}::text[]) and type = 'export.created'
         and dispatched_at is null`
    return {
      deliveries: rows.map((row) => row.id),
      exports: exports.map((row) => row.exportId),
    } satisfies BatchDispatch
  })

/**
 * `markDispatched` for a batch: at most three statements, however many events. The history
 * events' rows are inserted in sequence order first, each waiting for a relay transaction still
 * committing it, then deleted; the outbox events are marked dispatched.
 */
export const markBatchDispatched = (ids: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const { history, outbox } = splitBatch(ids)
    if (history.length > 0) {
      const seqs = textArray(history.map((event) => event.seq))
      yield* sql`
        insert into relayed_events (seq, relayed_at)
        select seq, now() from unnest(${seqs}::bigint[]) seq order by seq
        on conflict (seq) do nothing`
      yield* sql`delete from relayed_events where seq = any(${seqs}::bigint[])`
    }
    if (outbox.length > 0) {
      yield* sql`
        update outbox set dispatched_at = now()
         where id = any(${textArray(outbox)}::text[]) and dispatched_at is null`
    }
  })

/** Serializes relays on the history: one holds it per transaction, the others skip the history. */
const historyRelayLock = 7_472_687_217_001n

const historyStream = "transaction_events"

/**
 * The next `limit` history events after the relay's position, in (xid, seq) order and only below
 * the oldest running transaction, where that order is final: nothing can commit later into a
 * place already passed. None if another relay holds the history (a transaction-level advisory
 * lock, so an idle look writes nothing and takes no transaction id). Run inside a transaction,
 * then `recordRelayed` and `advanceHistory` in the same one.
 */
export const claimHistory = (limit: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const [lock] = yield* sql<{ readonly locked: boolean }>`
      select pg_try_advisory_xact_lock(${historyRelayLock.toString()}::bigint) as locked`
    if (lock?.locked !== true) return []
    const [position] = yield* sql<{
      readonly xid: string
      readonly seq: string
      readonly fromSeq: string
    }>`
      select xid::text as xid, seq::text as seq, from_seq::text as from_seq
        from relay_positions where stream = ${historyStream}`
    if (position === undefined) return []
    // Names the table's columns in ORDER BY: the text aliases would sort '10' before '9'.
    const rows = yield* sql<{ readonly seq: string; readonly xid: string; readonly at: Date }>`
      select seq::text as seq, xid::text as xid, at from transaction_events
       where (xid, seq) > (${position.xid}::xid8, ${position.seq}::bigint)
         and seq > ${position.fromSeq}::bigint
         and xid < pg_snapshot_xmin(pg_current_snapshot())
       order by transaction_events.xid, transaction_events.seq
       limit ${limit}`
    return rows.map((row): HistoryEvent => ({ ...row, id: historyEventId(row.seq), stale: false }))
  })

/** Notes the events as handed to the queues, before they are: see `markDispatched`. */
export const recordRelayed = (events: ReadonlyArray<HistoryEvent>) =>
  SqlClient.SqlClient.use(
    (sql) => sql`
      insert into relayed_events (seq, relayed_at)
      select unnest(${textArray(events.map((event) => event.seq))}::bigint[]), now()
      on conflict (seq) do update set relayed_at = excluded.relayed_at`,
  )

/** Moves the relay's position past the last of `events` (in claim order). */
export const advanceHistory = (events: ReadonlyArray<HistoryEvent>) =>
  Effect.gen(function* () {
    const last = events.at(-1)
    if (last === undefined) return
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      update relay_positions set xid = ${last.xid}::xid8, seq = ${last.seq}::bigint, updated_at = now()
       where stream = ${historyStream}`
  })

/**
 * Locks up to `limit` history events handed to the queues more than `staleAfterMs` ago whose
 * dispatch never finished (a queue that lost its data), oldest first. SKIP LOCKED lets several
 * relays share them. Run inside a transaction, then `recordRelayed` once they are enqueued.
 */
export const claimStaleHistory = (limit: number, staleAfterMs: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ readonly seq: string; readonly at: Date }>`
      select r.seq::text as seq, e.at from relayed_events r
        join transaction_events e on e.seq = r.seq
       where r.relayed_at < now() - make_interval(secs => ${staleAfterMs / 1000})
       order by r.relayed_at
       limit ${limit}
       for update of r skip locked`
    return rows.map(
      (row): HistoryEvent => ({ ...row, xid: "0", id: historyEventId(row.seq), stale: true }),
    )
  })

/** The Outbox port on this database; a failure that persists past the retries is a defect. */
export const layer = Layer.effect(
  Outbox,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    const onThis = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      port(Effect.provideService(effect, SqlClient.SqlClient, sql))
    return Outbox.of({
      claimForRelay: (limit, staleAfterMs) => onThis(claimForRelay(limit, staleAfterMs)),
      markRelayed: (events) => onThis(Effect.asVoid(markRelayed(events))),
      claimHistory: (limit) => onThis(claimHistory(limit)),
      recordRelayed: (events) => onThis(Effect.asVoid(recordRelayed(events))),
      advanceHistory: (events) => onThis(advanceHistory(events)),
      claimStaleHistory: (limit, staleAfterMs) => onThis(claimStaleHistory(limit, staleAfterMs)),
      findEvent: (id) => onThis(findEvent(id)),
      createDeliveries: (event) => onThis(createDeliveries(event)),
      createBatchDeliveries: (ids) => onThis(createBatchDeliveries(ids)),
      markDispatched: (ids) => onThis(markBatchDispatched(ids)),
      atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        transactionAtPort(sql)(effect) as Effect.Effect<A, E, R>,
    })
  }),
)
