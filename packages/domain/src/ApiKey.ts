import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Name, Timestamp } from "./Common.ts"
import { AccountId, ApiKeyId, type ClientTokenId, UserId } from "./Ids.ts"

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

/** The most accounts one client token may be limited to. */
export const maxClientTokenAccounts = 100
/** How long a client token lives at most, and unless asked otherwise. */
export const maxClientTokenSeconds = 3600
export const defaultClientTokenSeconds = 900

/**
 * What a server holding a secret API key asks for when it mints a client token for a browser:
 * some or all of its key's scopes, optionally only some of the user's accounts, for a while.
 */
export const CreateClientToken = Schema.Struct({
  scopes: Scopes,
  accountIds: Schema.optionalKey(
    Schema.Array(AccountId).pipe(
      Schema.check(
        Schema.isMinLength(1, { message: "Expected at least 1 account; omit it for all" }),
        Schema.isMaxLength(maxClientTokenAccounts, {
          message: `Expected at most ${maxClientTokenAccounts} accounts`,
        }),
        Schema.makeFilter(
          (ids: ReadonlyArray<string>) =>
            new Set(ids).size === ids.length || "Expected each account once",
        ),
      ),
    ),
  ),
  ttlSeconds: Schema.optionalKey(
    Schema.Number.pipe(
      Schema.check(
        Schema.isInt({ message: "Expected a whole number of seconds" }),
        Schema.isBetween(
          { minimum: 1, maximum: maxClientTokenSeconds },
          { message: `Expected from 1 to ${maxClientTokenSeconds} seconds` },
        ),
      ),
    ),
  ),
})
export type CreateClientToken = typeof CreateClientToken.Type

/** A minted client token: the secret (shown this once, never stored) and what it allows. */
export const ClientToken = Schema.Struct({
  token: Schema.String,
  expiresAt: Timestamp,
  scopes: Scopes,
  /** The accounts it reaches; null for all of the user's. */
  accountIds: Schema.NullOr(Schema.Array(AccountId)),
})
export type ClientToken = typeof ClientToken.Type

/** A client token as stored: its secret only as a hash. */
export interface ClientTokenRecord {
  readonly id: ClientTokenId
  readonly apiKeyId: ApiKeyId
  readonly userId: UserId
  readonly scopes: ReadonlyArray<Scope>
  readonly accountIds: ReadonlyArray<AccountId> | null
  readonly expiresAt: string
  readonly createdAt: string
}

/** How storing a client token went: stored, or refused for the first account not the user's. */
export type ClientTokenInsert =
  | { readonly _tag: "Inserted" }
  | { readonly _tag: "UnknownAccount"; readonly accountId: AccountId }
  | { readonly _tag: "KeyRevoked" }

/**
 * Who is acting, as authentication finds it: a user through a secret API key, or through a
 * client token minted with one (`keyId` is then the token's key, whose revocation ends it).
 */
export interface Credential {
  readonly keyId: ApiKeyId
  readonly userId: UserId
  readonly scopes: ReadonlyArray<Scope>
  readonly via: "key" | "token"
  /** The only accounts a client token reaches; null for all of the user's (always, for a key). */
  readonly accountIds: ReadonlyArray<AccountId> | null
  /** When a client token stops working (ISO 8601); null for a key, which lasts until revoked. */
  readonly expiresAt: string | null
}

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
