import {
  type ApiKey,
  type ApiKeyId,
  ApiKeyRepository,
  type Credential,
  type Scope,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { iso, isoOrNull } from "./rows.ts"

interface ApiKeyRow {
  readonly id: string
  readonly userId: string
  readonly name: string
  readonly scopes: ReadonlyArray<string>
  readonly createdAt: Date
  readonly lastUsedAt: Date | null
  readonly revokedAt: Date | null
}

const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id as ApiKeyId,
  userId: row.userId as UserId,
  name: row.name,
  scopes: row.scopes as ReadonlyArray<Scope>,
  createdAt: iso(row.createdAt),
  lastUsedAt: isoOrNull(row.lastUsedAt),
  revokedAt: isoOrNull(row.revokedAt),
})

const columns = "id, user_id, name, scopes, created_at, last_used_at, revoked_at"

export const layer = Layer.effect(
  ApiKeyRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cols = sql.literal(columns)
    return ApiKeyRepository.of({
      insert: (key, secretHash) =>
        sql<ApiKeyRow>`
          insert into api_keys (id, user_id, name, secret_hash, scopes, created_at)
          values (${key.id}, ${key.userId}, ${key.name}, ${secretHash},
                  ${`{${key.scopes.join(",")}}`}::text[], ${key.createdAt}::timestamptz)
          returning ${cols}`.pipe(
          Effect.map(([row]) => toApiKey(row!)),
          Effect.orDie,
          Effect.withSpan("PgApiKeyRepository.insert"),
        ),

      // One statement: find the live key and, if its last use is over a minute old, record this
      // one. A revoked key matches nothing, so revocation takes effect on the next request.
      use: (secretHash, now) =>
        sql<{ readonly id: string; readonly userId: string; readonly scopes: Array<string> }>`
          with found as (
            select id, user_id, scopes, last_used_at from api_keys
             where secret_hash = ${secretHash} and revoked_at is null
          ), touched as (
            update api_keys set last_used_at = ${now.toISOString()}::timestamptz
             where id in (select id from found
                           where last_used_at is null
                              or last_used_at < ${now.toISOString()}::timestamptz - interval '1 minute')
          )
          select id, user_id, scopes from found`.pipe(
          Effect.map(([row]) =>
            Option.fromNullishOr(row).pipe(
              Option.map(
                (r): Credential => ({
                  keyId: r.id as ApiKeyId,
                  userId: r.userId as UserId,
                  scopes: r.scopes as Array<Scope>,
                }),
              ),
            ),
          ),
          Effect.orDie,
          Effect.withSpan("PgApiKeyRepository.use"),
        ),

      markUsed: (uses) =>
        uses.length === 0
          ? Effect.void
          : sql`
          update api_keys k set last_used_at = u.at
            from unnest(${`{${uses.map((use) => use.keyId).join(",")}}`}::text[],
                        ${`{${uses.map((use) => use.at.toISOString()).join(",")}}`}::timestamptz[])
                 as u (id, at)
           where k.id = u.id and (k.last_used_at is null or k.last_used_at < u.at)`.pipe(
              Effect.asVoid,
              Effect.orDie,
              Effect.withSpan("PgApiKeyRepository.markUsed"),
            ),

      revoke: (id, now) =>
        sql<ApiKeyRow>`
          update api_keys set revoked_at = coalesce(revoked_at, ${now.toISOString()}::timestamptz)
           where id = ${id}
          returning ${cols}`.pipe(
          Effect.map(([row]) => Option.fromNullishOr(row).pipe(Option.map(toApiKey))),
          Effect.orDie,
          Effect.withSpan("PgApiKeyRepository.revoke"),
        ),

      listByUser: (userId) =>
        sql<ApiKeyRow>`
          select ${cols} from api_keys where user_id = ${userId}
           order by created_at desc, id desc`.pipe(
          Effect.map((rows) => rows.map(toApiKey)),
          Effect.orDie,
          Effect.withSpan("PgApiKeyRepository.listByUser"),
        ),
    })
  }),
)
