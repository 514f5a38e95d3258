import {
  idempotencyKeyDays,
  Maintenance,
  type Mismatch,
  type Purged,
  type Reconciliation,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Compares every account's stored balances with two independent sums: of its transactions by
 * status (what the balances must be) and of its ledger entries (what was recorded as changing
 * them). One statement, so one snapshot: writes going on meanwhile cause no false alarms.
 * Records the run and each mismatch.
 */
export const reconcileBalances = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const startedAt = new Date()
  const [checked] = yield* sql<{ readonly accounts: number; readonly mismatches: Array<Mismatch> }>`
    with postings as (
      select account_id,
             sum(case when status in ('posted', 'reversed')
                      then case direction when 'credit' then amount else -amount end
                      else 0 end) as posted,
             sum(case when status = 'pending' and direction = 'credit' then amount else 0 end)
               as pending_credits,
             sum(case when status = 'pending' and direction = 'debit' then amount else 0 end)
               as pending_debits
        from transactions group by account_id
    ), ledger as (
      select account_id, sum(posted_delta) as posted, sum(pending_credits_delta) as pending_credits,
             sum(pending_debits_delta) as pending_debits
        from ledger_entries group by account_id
    ), compared as (
      select a.id, a.user_id, f.field, f.stored, f.from_transactions, f.from_ledger
        from accounts a
        left join postings p on p.account_id = a.id
        left join ledger l on l.account_id = a.id
        cross join lateral (values
          ('posted', a.posted_balance, coalesce(p.posted, 0), coalesce(l.posted, 0)),
          ('pendingCredits', a.pending_credits, coalesce(p.pending_credits, 0),
             coalesce(l.pending_credits, 0)),
          ('pendingDebits', a.pending_debits, coalesce(p.pending_debits, 0),
             coalesce(l.pending_debits, 0))
        ) as f(field, stored, from_transactions, from_ledger)
    )
    select (select count(*)::int from accounts) as accounts,
           coalesce(jsonb_agg(jsonb_build_object(
             'accountId', id, 'userId', user_id, 'field', field, 'stored', stored::text,
             'fromTransactions', from_transactions::text, 'fromLedger', from_ledger::text)
             order by id, field)
             filter (where stored <> from_transactions or stored <> from_ledger), '[]'::jsonb)
             as mismatches
      from compared`
  const mismatches = checked?.mismatches ?? []
  const accountsChecked = checked?.accounts ?? 0
  const [run] = yield* sql<{ readonly id: string }>`
    insert into reconciliation_runs (started_at, finished_at, accounts_checked, mismatches)
    values (${startedAt.toISOString()}::timestamptz, now(), ${accountsChecked}, ${mismatches.length})
    returning id::text as id`
  if (mismatches.length > 0) {
    yield* sql`
      insert into reconciliation_mismatches
        (run_id, account_id, field, stored, from_transactions, from_ledger)
      select ${run!.id}::bigint, m."accountId", m.field, m.stored::bigint,
             m."fromTransactions"::numeric, m."fromLedger"::numeric
        from jsonb_to_recordset(${JSON.stringify(mismatches)}::jsonb)
          as m("accountId" text, field text, stored text, "fromTransactions" text, "fromLedger" text)`
  }
  return { runId: Number(run!.id), accountsChecked, mismatches } satisfies Reconciliation
}).pipe(Effect.withSpan("PgMaintenance.reconcileBalances"))

/** How long an event, its deliveries and their log are kept. */
export const eventRetentionDays = 30

/** Deletes `table` rows matching `condition` in batches, so no statement holds locks for long. */
const deleteInBatches = (table: string, condition: string, batch: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    let total = 0
    for (;;) {
      const rows = yield* sql`
        delete from ${sql.literal(table)} where ctid in (
          select ctid from ${sql.literal(table)} where ${sql.literal(condition)} limit ${batch})
        returning 1`
      total += rows.length
      if (rows.length < batch) return total
    }
  })

/**
 * Idempotency keys past their expiry (kept `idempotencyKeyDays`), exports past theirs, settled
 * webhook deliveries older than `eventRetentionDays` with their attempt logs, and outbox events
 * as old, dispatched and with no delivery left, and client tokens a day past their expiry.
 * Transaction events are the history and stay.
 */
export const purgeExpired = (batch = 5_000) =>
  Effect.gen(function* () {
    const idempotencyKeys = yield* deleteInBatches("idempotency_keys", "expires_at < now()", batch)
    // An export's file goes with it (its chunks cascade); a few large rows at a time.
    const exports = yield* deleteInBatches("exports", "expires_at < now()", 20)
    const deliveries = yield* deleteInBatches(
      "webhook_deliveries",
      `created_at < now() - interval '${eventRetentionDays} days' and status <> 'pending'`,
      batch,
    )
    const outboxEvents = yield* deleteInBatches(
      "outbox",
      `created_at < now() - interval '${eventRetentionDays} days' and dispatched_at is not null
       and not exists (select 1 from webhook_deliveries d where d.event_id = outbox.id)`,
      batch,
    )
    const clientTokens = yield* deleteInBatches(
      "client_tokens",
      "expires_at < now() - interval '1 day'",
      batch,
    )
    return {
      idempotencyKeys,
      exports,
      events: outboxEvents,
      deliveries,
      clientTokens,
    } satisfies Purged
  }).pipe(Effect.withSpan("PgMaintenance.purgeExpired", { attributes: { idempotencyKeyDays } }))

/** The Maintenance port on this database; a database failure is a defect, for the job to retry. */
export const layer = Layer.effect(
  Maintenance,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const onThis = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
      Effect.orDie(Effect.provideService(effect, SqlClient.SqlClient, sql))
    return Maintenance.of({
      reconcileBalances: onThis(reconcileBalances),
      purgeExpired: onThis(purgeExpired()),
    })
  }),
)
