import {
  type AccountId,
  type ApiKey,
  type ApiKeyId,
  ApiKeyRepository,
  type ClientTokenInsert,
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

/** A PostgreSQL array literal of ids or scopes (none of which holds a comma, quote or brace). */
const textArray = (values: ReadonlyArray<string>) => `{${values.join(",")}}`

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
                  via: "key",
                  accountIds: null,
                  expiresAt: null,
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

      // One statement: the first of the token's accounts that is not the user's, if any; else
      // the token, stored only while its key is live.
      insertClientToken: (token, secretHash) =>
        sql<{ readonly unknownAccount: string | null; readonly inserted: boolean }>`
          with wanted as (
            select id, ord from unnest(${textArray(token.accountIds ?? [])}::text[])
              with ordinality as w (id, ord)
          ), unknown as (
            select w.id from wanted w
             where not exists (select 1 from accounts a where a.id = w.id and a.user_id = ${token.userId})
             order by w.ord limit 1
          ), inserted as (
            insert into client_tokens
              (id, api_key_id, user_id, secret_hash, scopes, account_ids, expires_at, created_at)
            select ${token.id}, k.id, k.user_id, ${secretHash}, ${textArray(token.scopes)}::text[],
                   ${token.accountIds === null ? null : textArray(token.accountIds)}::text[],
                   ${token.expiresAt}::timestamptz, ${token.createdAt}::timestamptz
              from api_keys k
             where k.id = ${token.apiKeyId} and k.user_id = ${token.userId}
               and k.revoked_at is null and not exists (select 1 from unknown)
            returning id
          )
          select (select id from unknown) as unknown_account,
                 exists (select 1 from inserted) as inserted`.pipe(
          Effect.map(([row]): ClientTokenInsert => {
            if (row?.unknownAccount != null) {
              return { _tag: "UnknownAccount", accountId: row.unknownAccount as AccountId }
            }
            return row?.inserted === true ? { _tag: "Inserted" } : { _tag: "KeyRevoked" }
          }),
          Effect.orDie,
          Effect.withSpan("PgApiKeyRepository.insertClientToken"),
        ),

      // The token's scopes narrowed to those its key still has: a key's scopes changed since
      // (announced like a revocation) bound its tokens too.
      useClientToken: (secretHash, now) =>
        sql<{
          readonly keyId: string
          readonly userId: string
          readonly scopes: Array<string>
          readonly accountIds: Array<string> | null
          readonly expiresAt: Date
        }>`
          select k.id as key_id, t.user_id,
                 array(select s from unnest(t.scopes) s where s = any(k.scopes)) as scopes,
                 t.account_ids, t.expires_at
            from client_tokens t join api_keys k on k.id = t.api_key_id
           where t.secret_hash = ${secretHash} and k.revoked_at is null
             and t.expires_at > ${now.toISOString()}::timestamptz`.pipe(
          Effect.map(([row]) =>
            Option.fromNullishOr(row).pipe(
              Option.filter((r) => r.scopes.length > 0),
              Option.map(
                (r): Credential => ({
                  keyId: r.keyId as ApiKeyId,
                  userId: r.userId as UserId,
                  scopes: r.scopes as Array<Scope>,
                  via: "token",
                  accountIds: r.accountIds as Array<AccountId> | null,
                  expiresAt: iso(r.expiresAt),
                }),
              ),
            ),
          ),
          Effect.orDie,
          Effect.withSpan("PgApiKeyRepository.useClientToken"),
        ),
    })
  }),
)
