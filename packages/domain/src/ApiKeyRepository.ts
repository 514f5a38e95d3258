import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { ApiKey, ClientTokenInsert, ClientTokenRecord, Credential } from "./ApiKey.ts"
import type { ApiKeyId, UserId } from "./Ids.ts"

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
    /**
     * Stores a client token unless its key is revoked by now or one of its accounts is not the
     * user's.
     */
    readonly insertClientToken: (
      token: ClientTokenRecord,
      secretHash: string,
    ) => Effect.Effect<ClientTokenInsert>
    /**
     * The client token with this hash while it lives: not expired at `now`, its key not revoked;
     * its scopes those of the token its key still has.
     */
    readonly useClientToken: (
      secretHash: string,
      now: Date,
    ) => Effect.Effect<Option.Option<Credential>>
  }
>()("@txn/domain/ApiKeyRepository") {}
