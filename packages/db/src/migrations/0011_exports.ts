import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * CSV exports of transaction lists. The file lives in PostgreSQL as ordered chunks of about
 * 1 MiB, so every API replica can stream it and the worker can write it without a shared disk.
 * Each chunk is committed with the export's progress and the keyset position of its last row, so
 * a build that was interrupted resumes after the last committed chunk.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table exports (
      id text primary key check (id ~ '^exp_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      filters jsonb not null default '{}' check (jsonb_typeof(filters) = 'object'),
      status text not null default 'queued'
        check (status in ('queued', 'running', 'completed', 'failed')),
      total_rows bigint check (total_rows >= 0),
      rows_written bigint not null default 0 check (rows_written >= 0),
      bytes bigint not null default 0 check (bytes >= 0),
      chunks integer not null default 0 check (chunks >= 0),
      last_occurred_at timestamptz,
      last_id text,
      attempts integer not null default 0 check (attempts >= 0),
      error text check (length(error) <= 1000),
      created_at timestamptz not null,
      started_at timestamptz,
      completed_at timestamptz,
      expires_at timestamptz not null,
      check ((last_id is null) = (last_occurred_at is null)),
      check ((status = 'failed') = (error is not null)),
      check ((status = 'completed') = (completed_at is not null)),
      check (status <> 'completed' or total_rows = rows_written)
    )`
  yield* sql`create index exports_user_created_idx on exports (user_id, created_at desc, id desc)`
  yield* sql`create index exports_expires_idx on exports (expires_at)`
  yield* sql`
    create table export_chunks (
      export_id text not null references exports (id) on delete cascade,
      seq integer not null check (seq >= 0),
      data bytea not null,
      primary key (export_id, seq)
    )`
  // The API's JSON of an export, which its events carry too: `Exports.get` reads it from here, so
  // the two cannot drift apart.
  yield* sql`
    create function txn_export_json(e exports) returns jsonb language sql stable as $$
      select jsonb_build_object(
        'id', e.id, 'status', e.status, 'filters', e.filters,
        'totalRows', e.total_rows, 'rowsWritten', e.rows_written,
        'progress', case
          when e.status = 'completed' then 1
          when coalesce(e.total_rows, 0) = 0 then 0
          else least(1, (round(e.rows_written * 10000.0 / e.total_rows) / 10000)::float8) end,
        'bytes', e.bytes, 'error', e.error, 'createdAt', txn_iso(e.created_at),
        'startedAt', txn_iso(e.started_at), 'completedAt', txn_iso(e.completed_at),
        'expiresAt', txn_iso(e.expires_at),
        'downloadUrl', case when e.status = 'completed'
                            then '/v1/exports/' || e.id || '/download' end)
    $$`
  // Progress updates make no event; creation and the end of the build (either way) do.
  yield* sql`
    create function txn_export_outbox() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        perform txn_outbox_add(new.user_id, 'export.created',
          jsonb_build_object('export', txn_export_json(new)), new.created_at);
      elsif new.status is distinct from old.status and new.status in ('completed', 'failed') then
        perform txn_outbox_add(new.user_id, 'export.' || new.status,
          jsonb_build_object('export', txn_export_json(new)), coalesce(new.completed_at, now()));
      end if;
      return null;
    end $$`
  yield* sql`
    create trigger exports_outbox after insert or update of status on exports
      for each row execute function txn_export_outbox()`
})
