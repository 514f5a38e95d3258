import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Name, Timestamp } from "./Common.ts"
import { ApiKeyId, UserId } from "./Ids.ts"

/** What a key may do: `read` for queries, `write` for changes. */
export const Scope = Schema.Literals(["read", "write"])
export type Scope = typeof Scope.Type

export const Scopes = Schema.Array(Scope).pipe(
  Schema.check(
    Schema.makeFilter(
      (scopes: ReadonlyArray<Scope>) =>
        (scopes.length > 0 && new Set(scopes).size === scopes.length) ||
        "Expected one or more distinct scopes: read, write",
    ),
  ),
)

/** An API key as stored and shown: never the secret itself, which exists only at creation. */
export const ApiKey = Schema.Struct({
  id: ApiKeyId,
  userId: UserId,
  name: Name,
  scopes: Scopes,
  createdAt: Timestamp,
  lastUsedAt: Schema.NullOr(Timestamp),
  revokedAt: Schema.NullOr(Timestamp),
})
export type ApiKey = typeof ApiKey.Type

export const CreateUser = Schema.Struct({ name: Name })
export type CreateUser = typeof CreateUser.Type

export const CreateApiKey = Schema.Struct({ userId: UserId, name: Name, scopes: Scopes })
export type CreateApiKey = typeof CreateApiKey.Type

export const RevokeApiKey = Schema.Struct({ id: ApiKeyId })
export type RevokeApiKey = typeof RevokeApiKey.Type

export const ListApiKeys = Schema.Struct({ userId: UserId })
export type ListApiKeys = typeof ListApiKeys.Type

/** A key with the user it acts for, as authentication finds it. */
export interface Credential {
  readonly keyId: ApiKeyId
  readonly userId: UserId
  readonly scopes: ReadonlyArray<Scope>
}

/** Storage of API keys; only a hash of each secret is kept. */
export class ApiKeyRepository extends Context.Service<
  ApiKeyRepository,
  {
    readonly insert: (key: ApiKey, secretHash: string) => Effect.Effect<ApiKey>
    /** The live (not revoked) key with this hash, marking it used at `now` (at most once a minute). */
    readonly use: (secretHash: string, now: Date) => Effect.Effect<Option.Option<Credential>>
    /** Records when keys were last used (a use the cache served); never moves one back. */
    readonly markUsed: (
      uses: ReadonlyArray<{ readonly keyId: ApiKeyId; readonly at: Date }>,
    ) => Effect.Effect<void>
    /** Revokes the key unless already revoked; returns it as stored. */
    readonly revoke: (id: ApiKeyId, now: Date) => Effect.Effect<Option.Option<ApiKey>>
    readonly listByUser: (userId: UserId) => Effect.Effect<ReadonlyArray<ApiKey>>
  }
>()("@txn/domain/ApiKeyRepository") {}

/**
 * Credentials this process found recently, so a request with a known key needs no lookup. An
 * entry goes as soon as its key may have stopped working (revoked, deleted, its scopes or user
 * changed), whichever process or tool changed it, and after a bounded time regardless.
 */
export class CredentialCache extends Context.Service<
  CredentialCache,
  {
    /**
     * The credential held for `secret`, or what `lookup` finds, kept unless a key changed while
     * it looked.
     */
    readonly authenticate: <E>(
      secret: string,
      lookup: Effect.Effect<Option.Option<Credential>, E>,
    ) => Effect.Effect<Option.Option<Credential>, E>
    /** Drops the key here at once; other processes hear of the change from the database. */
    readonly forget: (keyId: ApiKeyId) => Effect.Effect<void>
  }
>()("@txn/domain/CredentialCache") {
  /** Nothing kept: every request looks its key up (the CLI, and tests of the lookup itself). */
  static readonly layerNone = Layer.succeed(
    CredentialCache,
    CredentialCache.of({ authenticate: (_secret, lookup) => lookup, forget: () => Effect.void }),
  )
}
