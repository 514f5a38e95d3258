import { IdempotencyStore, type UserId } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PgIdempotencyStore } from "../src/index.ts"
import { createUser, makeRuntime, type TestRuntime } from "./fixtures.ts"

let runtime: TestRuntime
let store: ManagedRuntime.ManagedRuntime<IdempotencyStore, never>
let userId: UserId
beforeAll(async () => {
  runtime = makeRuntime()
  userId = await runtime.runPromise(createUser)
  store = ManagedRuntime.make(
    PgIdempotencyStore.layer.pipe(Layer.provide(Layer.succeedContext(await runtime.context()))),
  )
})
afterAll(async () => {
  await store.dispose()
  await runtime.dispose()
})

const hash = (c: string) => c.repeat(64)
const day = 24 * 3600 * 1000

const claimAndComplete = (key: string, requestHash: string, now: Date, response: unknown) =>
  store.runPromise(
    IdempotencyStore.use((s) =>
      s.atomically(
        Effect.gen(function* () {
          const claim = yield* s.claim(userId, key, "test.create", requestHash, now)
          if (claim._tag === "Claimed") yield* s.complete(userId, key, response)
          return claim
        }),
      ),
    ),
  )

describe("PgIdempotencyStore", () => {
  it("replays for at least 7 days, then lets the key start over", async () => {
    // Ahead of the clock, so the key is never past expiry in real time: a purge running
    // meanwhile (a test's `npm start` runs the worker's) leaves it alone.
    const t0 = new Date(Date.now() + 365 * day)
    expect(await claimAndComplete("k-expiry", hash("a"), t0, { id: 1 })).toEqual({
      _tag: "Claimed",
    })
    expect(
      await claimAndComplete("k-expiry", hash("a"), new Date(t0.getTime() + 7 * day - 1), {}),
    ).toEqual({ _tag: "Replay", response: { id: 1 } })
    expect(
      await claimAndComplete("k-expiry", hash("a"), new Date(t0.getTime() + 7 * day + 1), {
        id: 2,
      }),
    ).toEqual({ _tag: "Claimed" })
  })

  it("reports a different request under one key as a mismatch", async () => {
    const now = new Date()
    await claimAndComplete("k-mismatch", hash("a"), now, { id: 1 })
    expect(await claimAndComplete("k-mismatch", hash("b"), now, {})).toEqual({ _tag: "Mismatch" })
  })

  it("rolls the key back with a write that fails", async () => {
    const now = new Date()
    const failed = await store.runPromiseExit(
      IdempotencyStore.use((s) =>
        s.atomically(
          Effect.gen(function* () {
            yield* s.claim(userId, "k-rollback", "test.create", hash("a"), now)
            return yield* Effect.fail("write refused")
          }),
        ),
      ),
    )
    expect(failed._tag).toBe("Failure")
    expect(await claimAndComplete("k-rollback", hash("a"), now, { id: 3 })).toEqual({
      _tag: "Claimed",
    })
  })
})
