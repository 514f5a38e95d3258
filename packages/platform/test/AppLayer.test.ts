import {
  Accounts,
  Currency,
  HoldScheduler,
  newUserId,
  Sha256,
  sha256Hex,
  Transactions,
  UserRepository,
} from "@txn/domain"
import { testDatabaseUrl } from "@txn/testing"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { afterAll, describe, expect, it } from "vitest"
import { makeAppLayer } from "../src/AppLayer.ts"
import { captureLog } from "./captureLog.ts"

const scheduled: Array<{ id: string; expiresAt: string }> = []
const holdScheduler = Layer.succeed(
  HoldScheduler,
  HoldScheduler.of({
    schedule: (id, expiresAt) =>
      Effect.sync(() => void scheduled.push({ id, expiresAt: expiresAt.toISOString() })),
    scheduleMany: (holds) =>
      Effect.sync(() => {
        for (const { id, expiresAt } of holds) {
          scheduled.push({ id, expiresAt: expiresAt.toISOString() })
        }
      }),
  }),
)

const capture = captureLog("info", "platform-test")
const runtime = ManagedRuntime.make(
  makeAppLayer({
    databaseUrl: testDatabaseUrl(),
    databasePoolMax: 2,
    holdScheduler,
    log: capture.log,
  }),
)
afterAll(() => runtime.dispose())

describe("makeAppLayer", () => {
  it("runs the use cases over PostgreSQL with the given hold scheduler", async () => {
    const userId = newUserId()
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const { account, created, read } = await runtime.runPromise(
      Effect.gen(function* () {
        yield* UserRepository.use((users) =>
          users.ensure({ id: userId, name: "Platform test", createdAt: new Date().toISOString() }),
        )
        const account = yield* Accounts.use((accounts) =>
          accounts.create(userId, {
            name: "Float",
            currency: Schema.decodeSync(Currency)("EUR"),
            // Holds a debit without funding it first: this test is about wiring, not funds.
            allowNegative: true,
          }),
        )
        const created = yield* Transactions.use((transactions) =>
          transactions.create(userId, {
            accountId: account.id,
            direction: "debit",
            amount: 4200,
            currency: account.currency,
            status: "pending",
            expiresAt,
          }),
        )
        const read = yield* Transactions.use((transactions) =>
          transactions.get(userId, { id: created.id }),
        )
        return { account, created, read }
      }),
    )
    expect(read).toEqual(created)
    expect(read).toMatchObject({
      accountId: account.id,
      userId,
      amount: 4200,
      currency: "EUR",
      status: "pending",
      version: 1,
    })
    expect(scheduled).toContainEqual({ id: created.id, expiresAt })

    const asStranger = await runtime.runPromiseExit(
      Transactions.use((transactions) => transactions.get(newUserId(), { id: created.id })),
    )
    expect(Exit.isFailure(asStranger)).toBe(true)
    if (Exit.isFailure(asStranger)) {
      expect(Cause.findErrorOption(asStranger.cause)).toEqual(
        Option.some(expect.objectContaining({ _tag: "NotFound", id: created.id })),
      )
    }
  })

  it("sends the use cases' Effect logs to the given logger", async () => {
    await runtime.runPromise(
      Effect.logInfo("from a use case").pipe(Effect.annotateLogs({ requestId: "req-app" })),
    )
    expect(capture.lines()).toContainEqual(
      expect.objectContaining({
        level: "info",
        name: "platform-test",
        msg: "from a use case",
        requestId: "req-app",
      }),
    )
  })

  it("turns an unreachable database into a defect, never a domain error", async () => {
    const unreachable = ManagedRuntime.make(
      makeAppLayer({
        databaseUrl: Redacted.make("postgres://postgres:pw-not-logged@127.0.0.1:1/none"),
        databasePoolMax: 1,
        holdScheduler,
        log: captureLog().log,
      }),
    )
    const exit = await unreachable.runPromiseExit(
      Accounts.use((accounts) => accounts.list(newUserId(), {})),
    )
    await unreachable.dispose()
    expect(Exit.isFailure(exit)).toBe(true)
    if (Exit.isFailure(exit)) {
      expect(Cause.hasFails(exit.cause)).toBe(false)
      expect(Cause.hasDies(exit.cause)).toBe(true)
      expect(Cause.pretty(exit.cause)).not.toContain("pw-not-logged")
    }
  })
})

describe("the app's SHA-256", () => {
  const texts = [
    "",
    "abc",
    '{"body":{"amount":1250,"currency":"EUR"},"operation":"transactions.create"}',
    "Café ☕ 𝄞 — ünïcödé",
    "x".repeat(100_000),
  ]

  it("gives the bytes WebCrypto gives, so keys and request hashes stored before still match", async () => {
    for (const text of texts) {
      const ours = await runtime.runPromise(Sha256.use((sha256) => sha256(text)))
      expect(ours, JSON.stringify(text.slice(0, 20))).toBe(await sha256Hex(text))
    }
  })

  it("answers in the same turn, without WebCrypto's promise", async () => {
    await runtime.runPromise(Effect.void)
    const exit = runtime.runSyncExit(Sha256.use((sha256) => sha256("abc")))
    expect(exit).toEqual(
      Exit.succeed("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    )
  })
})
