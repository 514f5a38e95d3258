import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Sha256 } from "./Common.ts"
import { IdempotencyKeyReused } from "./Errors.ts"
import type { UserId } from "./Ids.ts"

/** The client's name for one logical create: retrying with it never creates twice. */
export const IdempotencyKey = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (key: string) =>
        /^[\x21-\x7e]{1,255}$/.test(key) || "Expected 1 to 255 printable characters without spaces",
    ),
  ),
)

/** How long a key is remembered: its first answer is replayed for at least this long. */
export const idempotencyKeyDays = 7

export type Claim =
  | { readonly _tag: "Claimed" }
  | { readonly _tag: "Replay"; readonly response: unknown }
  | { readonly _tag: "Mismatch" }

/** What a key holds for a request that found it taken: its answer, another request's, or nothing. */
export type KeyAnswer =
  | { readonly _tag: "Replay"; readonly response: unknown }
  | { readonly _tag: "Mismatch" }
  /** Never used, forgotten or expired: the key starts over. */
  | { readonly _tag: "Free" }

/**
 * A key to record together with a write, already holding the write's answer: a repository that
 * writes in one statement stores both at once, and records neither if the key is taken.
 */
export interface IdempotencyRecord {
  readonly key: string
  readonly operation: string
  readonly requestHash: string
  readonly response: unknown
}

/** Keys and the answers they gave, stored with the writes they guard. */
export class IdempotencyStore extends Context.Service<
  IdempotencyStore,
  {
    /**
     * Claims the key for this request, or returns the earlier answer. A concurrent request with
     * the same key waits until the first one commits or rolls back.
     */
    readonly claim: (
      userId: UserId,
      key: string,
      operation: string,
      requestHash: string,
      now: Date,
    ) => Effect.Effect<Claim>
    readonly complete: (userId: UserId, key: string, response: unknown) => Effect.Effect<void>
    /** The key's committed answer, compared with this request's; waits for none. */
    readonly lookup: (
      userId: UserId,
      key: string,
      operation: string,
      requestHash: string,
      now: Date,
    ) => Effect.Effect<KeyAnswer>
    /** Runs `effect` in one database transaction, so the key and the write commit together. */
    readonly atomically: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("@txn/domain/IdempotencyStore") {}

/** JSON with object keys sorted, so the same body always hashes the same. */
const canonical = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(canonical).join(",")}]`
    : value !== null && typeof value === "object"
      ? `{${Object.keys(value)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
          .join(",")}}`
      : JSON.stringify(value)

/** What identifies a request under its key: the operation and the body, hashed canonically. */
export const requestHash = (
  operation: string,
  input: { readonly idempotencyKey?: string | undefined },
): Effect.Effect<string> => {
  const { idempotencyKey: _, ...body } = input
  return Sha256.use((sha256) => sha256(canonical({ operation, body })))
}

/** The error of a key sent again with a different request. */
export const keyReused = (key: string) =>
  new IdempotencyKeyReused({
    message: `Idempotency key ${JSON.stringify(key)} was used with a different request`,
    idempotencyKey: key,
  })

/** The first answer marked as a replay; what a repeated request with the same key gets. */
export type MaybeReplayed<A> = A & { readonly replayed?: true }

/**
 * Runs `create` at most once per (user, key): the same key with the same body answers the first
 * result again, marked `replayed`; with a different body, IdempotencyKeyReused. Without a key it
 * just runs. The key is recorded in the same database transaction as the write.
 */
export const idempotent = <A, E, R>(
  store: IdempotencyStore["Service"],
  userId: UserId,
  operation: string,
  input: { readonly idempotencyKey?: string | undefined },
  create: Effect.Effect<A, E, R>,
): Effect.Effect<MaybeReplayed<A>, E | IdempotencyKeyReused, R> => {
  const key = input.idempotencyKey
  const fresh = Effect.map(create, (result) => result as MaybeReplayed<A>)
  if (key === undefined) return fresh
  return store.atomically(
    Effect.gen(function* () {
      const hash = yield* requestHash(operation, input)
      const claim = yield* store.claim(userId, key, operation, hash, new Date())
      if (claim._tag === "Mismatch") return yield* keyReused(key)
      if (claim._tag === "Replay") {
        return { ...(claim.response as A), replayed: true as const } as MaybeReplayed<A>
      }
      const result = yield* fresh
      yield* store.complete(userId, key, result)
      return result
    }),
  )
}
