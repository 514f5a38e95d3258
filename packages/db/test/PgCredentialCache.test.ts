import { Access, type ApiKey, type Credential, CredentialCache } from "@txn/domain"
import { testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { afterEach, describe, expect, it } from "vitest"
import {
  type CredentialCacheOptions,
  PgApiKeyRepository,
  PgCredentialCache,
  PgDatabase,
  PgUserRepository,
} from "../src/index.ts"

const runtimes: Array<{ dispose: () => Promise<void> }> = []
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.dispose()))
})

/** `Access` over PostgreSQL with the cache, on a clock the test moves; its log messages. */
const start = async (options: Partial<CredentialCacheOptions> = {}) => {
  const clock = { now: Date.now() }
  const messages: Array<string> = []
  const runtime = ManagedRuntime.make(
    Access.layer.pipe(
      Layer.provideMerge(
        PgCredentialCache.layer({
          ttlMs: 30_000,
          maxEntries: 100,
          flushEveryMs: 20,
          now: () => clock.now,
          ...options,
        }),
      ),
      Layer.provideMerge(Layer.mergeAll(PgUserRepository.layer, PgApiKeyRepository.layer)),
      Layer.provideMerge(PgDatabase.layer({ url: testDatabaseUrl(), maxConnections: 2 })),
      Layer.provideMerge(
        Logger.layer([Logger.make(({ message }) => messages.push(String(message)))]),
      ),
      Layer.orDie,
    ),
  )
  runtimes.push(runtime)
  await runtime.runPromise(Effect.void)
  await expect.poll(() => messages).toContain(PgCredentialCache.listeningMessage)
  const access = (body: (access: Access["Service"]) => Effect.Effect<unknown, unknown>) =>
    runtime.runPromise(Access.use(body) as Effect.Effect<unknown>)
  const newKey = async () => {
    const user = (await access((a) => a.createUser({ name: "Cache test" }))) as { id: string }
    return (await access((a) =>
      a.createApiKey({ userId: user.id as never, name: "cached", scopes: ["read"] }),
    )) as { apiKey: ApiKey; secret: string }
  }
  /** Authenticates `secret`; the credential's key id (or the failure's tag) and the statements sent. */
  const authenticate = async (secret: string) => {
    let statements = 0
    const native = Tracer.nativeTracer
    const counting = Tracer.make({
      span(options) {
        if (options.kind === "client") statements++
        return native.span(options)
      },
    })
    const outcome = await runtime.runPromise(
      Access.use((a) => a.authenticate(secret)).pipe(
        Effect.map((credential) => credential.keyId as string),
        Effect.catchTag("Unauthorized", (error) => Effect.succeed(error._tag)),
        Effect.withTracer(counting),
      ),
    )
    return { outcome, statements }
  }
  const lastUsedAt = async (key: ApiKey) => {
    const keys = (await access((a) => a.listApiKeys({ userId: key.userId }))) as Array<ApiKey>
    return keys.find((listed) => listed.id === key.id)?.lastUsedAt
  }
  return { clock, authenticate, newKey, access, lastUsedAt, runtime }
}

describe("PgCredentialCache", () => {
  it("answers a key it holds without a statement; one it does not hold with a lookup", async () => {
    const cache = await start()
    const { apiKey, secret } = await cache.newKey()
    const first = await cache.authenticate(secret)
    expect(first.outcome).toBe(apiKey.id)
    expect(first.statements).toBeGreaterThan(0)
    for (let i = 0; i < 3; i++) {
      expect(await cache.authenticate(secret)).toEqual({ outcome: apiKey.id, statements: 0 })
    }
  })

  it("keeps no unknown key: each attempt is looked up", async () => {
    const cache = await start()
    const unknown = `txn_${"A".repeat(43)}`
    for (let i = 0; i < 2; i++) {
      const attempt = await cache.authenticate(unknown)
      expect(attempt.outcome).toBe("Unauthorized")
      expect(attempt.statements).toBeGreaterThan(0)
    }
  })

  it("looks a key up again once its time in the cache is up", async () => {
    const cache = await start({ ttlMs: 5_000 })
    const { secret } = await cache.newKey()
    await cache.authenticate(secret)
    cache.clock.now += 4_999
    expect((await cache.authenticate(secret)).statements).toBe(0)
    cache.clock.now += 1
    expect((await cache.authenticate(secret)).statements).toBeGreaterThan(0)
  })

  it("holds at most maxEntries keys, dropping the oldest", async () => {
    const cache = await start({ maxEntries: 2 })
    const keys = [await cache.newKey(), await cache.newKey(), await cache.newKey()]
    for (const { secret } of keys) await cache.authenticate(secret)
    expect((await cache.authenticate(keys[2]!.secret)).statements).toBe(0)
    expect((await cache.authenticate(keys[1]!.secret)).statements).toBe(0)
    expect((await cache.authenticate(keys[0]!.secret)).statements).toBeGreaterThan(0)
  })

  it("records the uses it serves in the background, at most once a minute per key", async () => {
    const cache = await start({ ttlMs: 3_600_000 })
    const { apiKey, secret } = await cache.newKey()
    await cache.authenticate(secret)
    const firstUse = await cache.lastUsedAt(apiKey)
    expect(firstUse).not.toBeNull()

    // Within the minute: nothing new to record.
    cache.clock.now += 59_000
    expect((await cache.authenticate(secret)).statements).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await cache.lastUsedAt(apiKey)).toBe(firstUse)

    // Past it: the hit still sends nothing, and the use reaches the database shortly after.
    cache.clock.now += 2_000
    expect((await cache.authenticate(secret)).statements).toBe(0)
    await expect.poll(() => cache.lastUsedAt(apiKey)).toBe(new Date(cache.clock.now).toISOString())
  })

  it("keeps a key looked up while another key was revoked", async () => {
    const cache = await start()
    const kept = await cache.newKey()
    const other = await cache.newKey()
    const credential = (await cache.runtime.runPromise(
      Access.use((a) => a.authenticate(kept.secret)),
    )) as Credential
    await cache.runtime.runPromise(CredentialCache.use((c) => c.forget(kept.apiKey.id)))
    // The lookup of one key runs while another is revoked: only a change to its own key voids it.
    const revokingMeanwhile = Effect.promise(() =>
      cache.access((a) => a.revokeApiKey({ id: other.apiKey.id })),
    ).pipe(Effect.as(Option.some(credential)))
    await cache.runtime.runPromise(
      CredentialCache.use((c) => c.authenticate(kept.secret, revokingMeanwhile)),
    )
    expect(await cache.authenticate(kept.secret)).toEqual({
      outcome: kept.apiKey.id,
      statements: 0,
    })
    expect((await cache.authenticate(other.secret)).outcome).toBe("Unauthorized")
  })

  it("forgets a key revoked through this process before the revocation answers", async () => {
    const cache = await start()
    const { apiKey, secret } = await cache.newKey()
    await cache.authenticate(secret)
    await cache.access((a) => a.revokeApiKey({ id: apiKey.id }))
    expect((await cache.authenticate(secret)).outcome).toBe("Unauthorized")
  })
})
