import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import {
  type ApiKey,
  ApiKeyRepository,
  type CreateApiKey,
  type CreateUser,
  type Credential,
  CredentialCache,
  type ListApiKeys,
  type RevokeApiKey,
} from "./ApiKey.ts"
import { Sha256, sha256Hex } from "./Common.ts"
import { NotFound, Unauthorized } from "./Errors.ts"
import { newApiKeyId, newUserId } from "./Ids.ts"
import { type User, UserRepository } from "./User.ts"

/** `txn_` and 43 base64url characters: 256 random bits. */
const secretPattern = /^txn_[A-Za-z0-9_-]{43}$/

const newSecret = () => `txn_${Base64Url.encode(crypto.getRandomValues(new Uint8Array(32)))}`

/**
 * SHA-256 of the secret, hex. Keys carry 256 random bits, so a fast hash is enough (nothing to
 * brute-force, unlike passwords) and lets a key be found by its hash in one indexed lookup.
 */
export const hashSecret = (secret: string) => sha256Hex(secret)

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
        authenticate: Effect.fn("Access.authenticate")(function* (secret) {
          if (!secretPattern.test(secret)) return yield* invalidKey
          const found = yield* cache.authenticate(
            secret,
            Sha256.use((sha256) => sha256(secret)).pipe(
              Effect.flatMap((hash) => keys.use(hash, new Date())),
            ),
          )
          if (Option.isNone(found)) return yield* invalidKey
          return found.value
        }),
      })
    }),
  )
}
