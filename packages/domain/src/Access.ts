import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import {
  type ApiKey,
  type ClientToken,
  type CreateApiKey,
  type CreateClientToken,
  type CreateUser,
  type Credential,
  CredentialCache,
  defaultClientTokenSeconds,
  type ListApiKeys,
  type RevokeApiKey,
} from "./ApiKey.ts"
import { ApiKeyRepository } from "./ApiKeyRepository.ts"
import { Sha256 } from "./Common.ts"
import { Forbidden, NotFound, Unauthorized } from "./Errors.ts"
import { newApiKeyId, newClientTokenId, newUserId } from "./Ids.ts"
import type { User } from "./User.ts"
import { UserRepository } from "./UserRepository.ts"

/** `txn_` and 43 base64url characters: 256 random bits. */
const secretPattern = /^txn_[A-Za-z0-9_-]{43}$/

const newSecret = () => `txn_${Base64Url.encode(crypto.getRandomValues(new Uint8Array(32)))}`

/**
 * A client token: `txnct_` and 43 base64url characters, 256 random bits. Its own prefix tells it
 * from a secret key at a glance, and lets secret scanners tell which leaked.
 */
const tokenPattern = /^txnct_[A-Za-z0-9_-]{43}$/

const newToken = () => `txnct_${Base64Url.encode(crypto.getRandomValues(new Uint8Array(32)))}`

const invalidKey = new Unauthorized({ message: "Missing, unknown or revoked API key" })

/** Users and their API keys: the admin operations, and turning a presented key into a caller. */
export class Access extends Context.Service<
  Access,
  {
    readonly createUser: (input: CreateUser) => Effect.Effect<User>
    /** The secret is returned here once and never stored. */
    readonly createApiKey: (
      input: CreateApiKey,
    ) => Effect.Effect<{ readonly apiKey: ApiKey; readonly secret: string }, NotFound>
    readonly revokeApiKey: (input: RevokeApiKey) => Effect.Effect<ApiKey, NotFound>
    readonly listApiKeys: (input: ListApiKeys) => Effect.Effect<ReadonlyArray<ApiKey>, NotFound>
    /**
     * Mints a client token for `key`'s user: the secret is returned here once and never stored.
     * Only a secret API key may mint, and only scopes it has itself.
     */
    readonly createClientToken: (
      key: Credential,
      input: CreateClientToken,
    ) => Effect.Effect<ClientToken, Forbidden | NotFound | Unauthorized>
    /** A secret API key or a live client token, as the caller it stands for. */
    readonly authenticate: (secret: string) => Effect.Effect<Credential, Unauthorized>
  }
>()("@txn/domain/Access") {
  static readonly layer = Layer.effect(
    Access,
    Effect.gen(function* () {
      const users = yield* UserRepository
      const keys = yield* ApiKeyRepository
      const cache = yield* CredentialCache

      const userExists = Effect.fn(function* (userId: User["id"]) {
        if (Option.isNone(yield* users.findById(userId))) {
          return yield* NotFound.of("user", userId)
        }
      })

      return Access.of({
        createUser: Effect.fn("Access.createUser")(function* (input) {
          return yield* users.ensure({
            id: newUserId(),
            name: input.name,
            createdAt: new Date().toISOString(),
          })
        }),
        createApiKey: Effect.fn("Access.createApiKey")(function* (input) {
          yield* userExists(input.userId)
          const secret = newSecret()
          // Only its SHA-256 is kept. Keys carry 256 random bits, so a fast hash is enough
          // (nothing to brute-force, unlike passwords) and finds a key in one indexed lookup.
          const hash = yield* Sha256.use((sha256) => sha256(secret))
          const apiKey = yield* keys.insert(
            {
              id: newApiKeyId(),
              userId: input.userId,
              name: input.name,
              scopes: [...new Set(input.scopes)],
              createdAt: new Date().toISOString(),
              lastUsedAt: null,
              revokedAt: null,
            },
            hash,
          )
          return { apiKey, secret }
        }),
        revokeApiKey: Effect.fn("Access.revokeApiKey")(function* (input) {
          const revoked = yield* keys.revoke(input.id, new Date())
          if (Option.isNone(revoked)) return yield* NotFound.of("API key", input.id)
          yield* cache.forget(input.id)
          return revoked.value
        }),
        listApiKeys: Effect.fn("Access.listApiKeys")(function* (input) {
          yield* userExists(input.userId)
          return yield* keys.listByUser(input.userId)
        }),
        createClientToken: Effect.fn("Access.createClientToken")(function* (key, input) {
          if (key.via !== "key") {
            return yield* new Forbidden({
              message: "A client token cannot mint tokens; mint them with a secret API key",
              requiredScope: "apiKey",
            })
          }
          for (const scope of input.scopes) {
            if (!key.scopes.includes(scope)) {
              return yield* new Forbidden({
                message: `This API key lacks the ${scope} scope, so its tokens cannot have it`,
                requiredScope: scope,
              })
            }
          }
          const now = new Date()
          const expiresAt = new Date(
            now.getTime() + (input.ttlSeconds ?? defaultClientTokenSeconds) * 1000,
          ).toISOString()
          const scopes = [...new Set(input.scopes)]
          const accountIds = input.accountIds ?? null
          const token = newToken()
          const hash = yield* Sha256.use((sha256) => sha256(token))
          const stored = yield* keys.insertClientToken(
            {
              id: newClientTokenId(),
              apiKeyId: key.keyId,
              userId: key.userId,
              scopes,
              accountIds,
              expiresAt,
              createdAt: now.toISOString(),
            },
            hash,
          )
          if (stored._tag === "UnknownAccount")
            return yield* NotFound.of("account", stored.accountId)
          if (stored._tag === "KeyRevoked") return yield* invalidKey
          return { token, expiresAt, scopes, accountIds }
        }),
        authenticate: Effect.fn("Access.authenticate")(function* (secret) {
          const isToken = tokenPattern.test(secret)
          if (!isToken && !secretPattern.test(secret)) return yield* invalidKey
          const found = yield* cache.authenticate(
            secret,
            Sha256.use((sha256) => sha256(secret)).pipe(
              Effect.flatMap((hash) =>
                isToken ? keys.useClientToken(hash, new Date()) : keys.use(hash, new Date()),
              ),
            ),
          )
          if (Option.isNone(found)) return yield* invalidKey
          return found.value
        }),
      })
    }),
  )
}
