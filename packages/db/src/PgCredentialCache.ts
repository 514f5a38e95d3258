import { createHash } from "node:crypto"
import { PgClient, PgConnection } from "@effect/sql-pg"
import { type ApiKeyId, ApiKeyRepository, type Credential, CredentialCache } from "@txn/domain"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"

/** Where migration 0018's triggers announce a changed key: its id, or `*` for every key. */
export const channel = "api_key_changes"

export interface CredentialCacheOptions {
  /** How long an entry is trusted at most, whatever the notifications say. */
  readonly ttlMs: number
  /** Entries held at most; past it the oldest goes. */
  readonly maxEntries: number
  /** How often uses served from the cache reach `last_used_at` (default 10 s). */
  readonly flushEveryMs?: number
  /** Milliseconds since the epoch; tests move time with it. */
  readonly now?: () => number
  /** Where to LISTEN for key changes when the pool's URL is a pooler in transaction mode. */
  readonly listenUrl?: Redacted.Redacted<string> | undefined
}

/** Logged each time the cache starts listening, so an operator (or a test) sees it is on. */
export const listeningMessage = "Listening for API key changes"

/** As `ApiKeyRepository.use`: a key's last use is recorded at most once a minute. */
const recordUseEveryMs = 60_000
/** How long to wait before listening again after the LISTEN connection failed. */
const relistenAfter = Duration.millis(250)

interface Entry {
  readonly credential: Credential
  readonly expiresAt: number
  /** When a use of the key last went (or is queued to go) to the database. */
  recordedAt: number
}

/**
 * Keys (and client tokens) found in PostgreSQL, held in this process for up to `ttlMs` (a token no
 * longer than it lives), by the SHA-256 of the secret (never the secret itself). A token's
 * credential names its key, so a change to the key drops its tokens too. A dedicated connection LISTENs on `channel`; a notification drops the
 * key it names, in every process, within a round trip of the change committing. Without a working
 * LISTEN (not yet connected, or the connection dropped) nothing is held and every request looks
 * its key up, until listening again: a change in that gap would go unheard. A lookup that raced
 * a change to its key is not kept. A hit sends no statement: the uses it serves are written in the
 * background, at most one per key and minute.
 */
export const layer = (options: CredentialCacheOptions) =>
  Layer.effect(
    CredentialCache,
    Effect.gen(function* () {
      const pg = yield* PgClient.PgClient
      const keys = yield* ApiKeyRepository
      const now = options.now ?? Date.now
      const entries = new Map<string, Entry>()
      const unrecorded = new Map<ApiKeyId, number>()
      let listening = false
      // The key ids heard of while each lookup is running: a lookup is not kept if its key (or
      // every key, `*`) changed meanwhile, whatever the other keys heard of do.
      const running = new Set<Set<string>>()

      const forget = (keyId: string) => {
        for (const heard of running) heard.add(keyId)
        if (keyId === "*") return entries.clear()
        for (const [hash, entry] of entries) {
          if (entry.credential.keyId === keyId) entries.delete(hash)
        }
      }
      const keep = (hash: string, credential: Credential, at: number) => {
        entries.delete(hash)
        if (entries.size >= options.maxEntries) {
          const oldest = entries.keys().next()
          if (oldest.done !== true) entries.delete(oldest.value)
        }
        // A client token is held no longer than it lives.
        const ends = credential.expiresAt === null ? Infinity : Date.parse(credential.expiresAt)
        entries.set(hash, {
          credential,
          expiresAt: Math.min(at + options.ttlMs, ends),
          recordedAt: at,
        })
      }

      const listen = Effect.scoped(
        Effect.gen(function* () {
          // Its own connection, so the pool keeps all of its connections for requests.
          const connection = yield* PgConnection.make({
            ...pg.config,
            ...(options.listenUrl === undefined ? {} : { url: options.listenUrl }),
            keepAlive: "10 seconds",
          })
          const changes = yield* connection.listen(channel)
          // Anything held from before could have changed unheard.
          forget("*")
          listening = true
          yield* Effect.logInfo(listeningMessage)
          return yield* Effect.forever(
            Queue.take(changes).pipe(Effect.map((change) => forget(change.payload))),
          )
        }),
      ).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            listening = false
            forget("*")
          }),
        ),
        // Failures only: the interruption at shutdown is no news.
        Effect.tapError((error) =>
          Effect.logWarning("API key changes unheard; looking every key up until listening again", {
            error: String(error),
          }),
        ),
        Effect.retry(Schedule.spaced(relistenAfter)),
      )
      yield* Effect.forkScoped(listen)

      const recordUses = Effect.suspend(() => {
        if (unrecorded.size === 0) return Effect.void
        const uses = [...unrecorded].map(([keyId, at]) => ({ keyId, at: new Date(at) }))
        unrecorded.clear()
        return keys.markUsed(uses)
      }).pipe(
        Effect.catchCause((cause) =>
          Effect.logWarning("Could not record API key uses", { cause: String(cause) }),
        ),
      )
      yield* Effect.forkScoped(
        recordUses.pipe(
          Effect.repeat(Schedule.spaced(Duration.millis(options.flushEveryMs ?? 10_000))),
        ),
      )
      yield* Effect.addFinalizer(() => recordUses)

      return CredentialCache.of({
        authenticate: (secret, lookup) =>
          Effect.suspend(() => {
            const hash = createHash("sha256").update(secret).digest("base64")
            const at = now()
            const held = listening ? entries.get(hash) : undefined
            if (held !== undefined && held.expiresAt > at) {
              if (at - held.recordedAt >= recordUseEveryMs) {
                held.recordedAt = at
                unrecorded.set(held.credential.keyId, at)
              }
              return Effect.succeed(Option.some(held.credential))
            }
            if (held !== undefined) entries.delete(hash)
            const heard = new Set<string>()
            running.add(heard)
            return Effect.map(lookup, (found) => {
              if (
                Option.isSome(found) &&
                listening &&
                !heard.has("*") &&
                !heard.has(found.value.keyId)
              ) {
                keep(hash, found.value, at)
              }
              return found
            }).pipe(Effect.ensuring(Effect.sync(() => running.delete(heard))))
          }),
        forget: (keyId) => Effect.sync(() => forget(keyId)),
      })
    }),
  )
