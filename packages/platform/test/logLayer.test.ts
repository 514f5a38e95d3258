import type { LogLevel } from "@txn/config"
import * as Effect from "effect/Effect"
import { describe, expect, it, vi } from "vitest"
import { logLayer } from "../src/Log.ts"
import { captureLog } from "./captureLog.ts"

const runLogged = (effect: Effect.Effect<unknown>, level: LogLevel = "trace") => {
  const capture = captureLog(level)
  Effect.runSync(effect.pipe(Effect.asVoid, Effect.provide(logLayer(capture.log))))
  return capture
}

describe("logLayer", () => {
  it.each([
    { name: "logTrace", logAt: Effect.logTrace, level: "trace" },
    { name: "logDebug", logAt: Effect.logDebug, level: "debug" },
    { name: "logInfo", logAt: Effect.logInfo, level: "info" },
    { name: "log", logAt: Effect.log, level: "info" },
    { name: "logWarning", logAt: Effect.logWarning, level: "warn" },
    { name: "logError", logAt: Effect.logError, level: "error" },
    { name: "logFatal", logAt: Effect.logFatal, level: "fatal" },
  ])("sends Effect.$name to the logger at level $level", ({ logAt, level }) => {
    const { lines } = runLogged(logAt("hello"))
    expect(lines()).toEqual([expect.objectContaining({ level, msg: "hello" })])
  })

  it("turns log annotations into fields of the line", () => {
    const { lines } = runLogged(
      Effect.logInfo("charged").pipe(
        Effect.annotateLogs({ requestId: "req-42", userId: "usr_1", attempt: 2 }),
      ),
    )
    expect(lines()[0]).toMatchObject({
      level: "info",
      msg: "charged",
      requestId: "req-42",
      userId: "usr_1",
      attempt: 2,
    })
  })

  it("joins message parts, writing objects as JSON", () => {
    const { lines } = runLogged(Effect.logInfo("batch", { size: 3 }, [1, 2], 7))
    expect(lines()[0]?.msg).toBe('batch {"size":3} [1,2] 7')
  })

  it("writes a failure's cause next to the message", () => {
    const { lines } = runLogged(
      Effect.fail(new Error("ledger unreachable")).pipe(
        Effect.tapCause((cause) => Effect.logError("posting failed", cause)),
        Effect.ignore,
      ),
    )
    expect(lines()).toHaveLength(1)
    expect(lines()[0]).toMatchObject({ level: "error", msg: "posting failed" })
    expect(lines()[0]?.cause).toContain("ledger unreachable")
  })

  it("adds no cause field when there is none", () => {
    const { lines } = runLogged(Effect.logWarning("slow"))
    expect(lines()[0]).not.toHaveProperty("cause")
  })

  it("hides secrets in annotations and in logged objects", () => {
    const secret = "hunter2-from-effect"
    const { raw, lines } = runLogged(
      Effect.logInfo(
        "connecting",
        { databaseUrl: `postgres://app:${secret}@db/txn` },
        {
          headers: { authorization: `Bearer ${secret}` },
        },
      ).pipe(Effect.annotateLogs({ password: secret })),
    )
    expect(raw()).not.toContain(secret)
    expect(lines()[0]).toMatchObject({
      password: "[redacted]",
      msg: 'connecting {"databaseUrl":"[redacted]"} {"headers":{"authorization":"[redacted]"}}',
    })
  })

  it("passes debug and trace logs through to a logger that wants them", () => {
    const { lines } = runLogged(
      Effect.logDebug("detail").pipe(Effect.andThen(Effect.logTrace("fine"))),
    )
    expect(lines().map((line) => line.level)).toEqual(["debug", "trace"])
  })

  it("leaves level filtering to the logger", () => {
    const { lines } = runLogged(
      Effect.all([
        Effect.logTrace("t"),
        Effect.logDebug("d"),
        Effect.logInfo("i"),
        Effect.logWarning("w"),
        Effect.logError("e"),
      ]),
      "warn",
    )
    expect(lines().map((line) => line.msg)).toEqual(["w", "e"])
  })

  it("replaces Effect's default console logger", () => {
    const consoleSpies = (["log", "info", "warn", "error", "debug", "trace"] as const).map(
      (method) => vi.spyOn(console, method).mockImplementation(() => {}),
    )
    try {
      const { lines } = runLogged(Effect.logError("only once"))
      expect(lines()).toHaveLength(1)
      for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled()
    } finally {
      for (const spy of consoleSpies) spy.mockRestore()
    }
  })
})
