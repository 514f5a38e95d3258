import * as Redacted from "effect/Redacted"
import { describe, expect, it } from "vitest"
import { captureLog } from "./captureLog.ts"

describe("makeLog", () => {
  it("writes one JSON object per line with level, time, name and message", () => {
    const { log, raw, lines } = captureLog("info", "api")
    log.info("started")
    log.warn({ port: 3000 }, "port in use")
    log.error(new Error("disk full"), "cannot write")

    expect(raw().endsWith("\n")).toBe(true)
    expect(raw().split("\n")).toHaveLength(4)
    const [started, warned, failed] = lines()
    expect(started).toMatchObject({ level: "info", name: "api", service: "api", msg: "started" })
    expect(warned).toMatchObject({ level: "warn", name: "api", port: 3000, msg: "port in use" })
    expect(failed).toMatchObject({ level: "error", msg: "cannot write" })
    expect(failed?.err).toMatchObject({ type: "Error", message: "disk full" })
    for (const line of lines()) {
      expect(line.time).toEqual(expect.any(String))
      expect(new Date(line.time as string).toISOString()).toBe(line.time)
    }
  })

  it("drops lines below its level and keeps those at or above it", () => {
    const { log, lines } = captureLog("warn")
    log.trace("trace")
    log.debug("debug")
    log.info("info")
    log.warn("warn")
    log.error("error")
    log.fatal("fatal")
    expect(lines().map((line) => [line.level, line.msg])).toEqual([
      ["warn", "warn"],
      ["error", "error"],
      ["fatal", "fatal"],
    ])
  })

  const secret = "s3cr3t-Value-Never-Logged"
  const cases: Array<[string, Record<string, unknown>, ReadonlyArray<string>]> = [
    ["an authorization field", { authorization: `Bearer ${secret}` }, ["authorization"]],
    [
      "request headers",
      { headers: { authorization: `Bearer ${secret}`, accept: "application/json" } },
      ["headers", "authorization"],
    ],
    [
      "a request's headers",
      { req: { headers: { authorization: `Basic ${secret}` } } },
      ["req", "headers", "authorization"],
    ],
    ["a password", { password: secret }, ["password"]],
    ["a user's password", { user: { name: "ada", password: secret } }, ["user", "password"]],
    ["a database URL", { databaseUrl: `postgres://app:${secret}@db:5432/txn` }, ["databaseUrl"]],
    ["a Redis URL", { redisUrl: `redis://:${secret}@cache:6379` }, ["redisUrl"]],
    [
      "a config's URLs",
      { config: { databaseUrl: `postgres://app:${secret}@db/txn`, redisUrl: `redis://${secret}` } },
      ["config", "databaseUrl"],
    ],
    [
      "a password nested three levels down",
      { job: { connection: { password: secret } } },
      ["job", "connection", "password"],
    ],
    [
      "an authorization header deep in an array",
      { calls: [{ request: { headers: { authorization: secret } } }] },
      ["calls", "0", "request", "headers", "authorization"],
    ],
  ]

  it.each(cases)("hides %s", (_label, fields, path) => {
    const { log, raw, lines } = captureLog()
    log.info(fields, "with a secret")
    expect(raw()).not.toContain(secret)
    let value: unknown = lines()[0]
    for (const key of path) value = (value as Record<string, unknown>)[key]
    expect(value).toBe("[redacted]")
  })

  it("keeps the fields next to a secret", () => {
    const { log, lines } = captureLog()
    log.info({ headers: { authorization: secret, accept: "application/json" } }, "request")
    expect(lines()[0]?.headers).toEqual({ authorization: "[redacted]", accept: "application/json" })
  })

  it("hides secrets bound to a child logger", () => {
    const { log, raw, lines } = captureLog()
    log.child({ password: secret, component: "queue" }).info("connected")
    expect(raw()).not.toContain(secret)
    expect(lines()[0]).toMatchObject({ password: "[redacted]", component: "queue" })
  })

  it("shows a Redacted value as <redacted>", () => {
    const { log, raw, lines } = captureLog()
    log.info({ url: Redacted.make(`postgres://app:${secret}@db/txn`) }, "connecting")
    expect(raw()).not.toContain(secret)
    expect(lines()[0]?.url).toBe("<redacted>")
  })

  it("logs an object that refers to itself", () => {
    const { log, raw, lines } = captureLog()
    const node: Record<string, unknown> = { name: "loop", password: secret }
    node.self = node
    log.info({ node }, "cyclic")
    expect(raw()).not.toContain(secret)
    expect(lines()[0]?.node).toEqual({ name: "loop", password: "[redacted]", self: "[Circular]" })
  })
})
