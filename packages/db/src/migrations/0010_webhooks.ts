import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

/**
 * Webhook endpoints, one delivery per (event, endpoint) and one row per attempt. A delivery's
 * lease keeps two workers from sending it at once; the attempts are the delivery log.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    create table webhooks (
      id text primary key check (id ~ '^whk_[0-9a-z]{26}$'),
      user_id text not null references users (id),
      url text not null check (length(url) <= 2048),
      description text check (length(description) <= 1000),
      event_types text[] not null check (cardinality(event_types) between 1 and 50),
      secret text not null check (secret ~ '^whsec_[A-Za-z0-9_-]{43}$'),
      status text not null default 'active' check (status in ('active', 'disabled')),
      disabled_reason text,
      failing_since timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      check ((status = 'disabled') = (disabled_reason is not null))
    )`
  yield* sql`create index webhooks_user_created_idx on webhooks (user_id, created_at desc, id desc)`
  yield* sql`
    create table webhook_deliveries (
      id text primary key check (id ~ '^dlv_[0-9a-z]{26}$'),
      webhook_id text not null references webhooks (id) on delete cascade,
      event_id text not null references outbox (id) on delete cascade,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      last_status_code integer,
      last_error text,
      next_attempt_at timestamptz,
      lease_until timestamptz,
      delivered_at timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      unique (event_id, webhook_id)
    )`
  yield* sql`
    create index webhook_deliveries_webhook_idx
      on webhook_deliveries (webhook_id, created_at desc, id desc)`
  yield* sql`
    create index webhook_deliveries_pending_idx on webhook_deliveries (next_attempt_at)
      where status = 'pending'`
  yield* sql`
    create table webhook_attempts (
      delivery_id text not null references webhook_deliveries (id) on delete cascade,
      attempt integer not null check (attempt > 0),
      at timestamptz not null,
      status_code integer,
      error text,
      duration_ms integer not null,
      primary key (delivery_id, attempt)
    )`
})
