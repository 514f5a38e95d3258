import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { ConfigError, loadConfig } from "../src/index.ts"

/** The error `loadConfig` throws for `env`; fails the test when it does not throw one. */
const configErrorFor = (env: Record<string, string | undefined>): ConfigError => {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error("Expected loadConfig to throw a ConfigError")
}

describe("loadConfig", () => {
  it("uses the defaults for an empty environment", () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      logLevel: "info",
      databaseUrl: undefined,
      redisUrl: undefined,
    })
  })

  it("reads PORT as a number", () => {
    expect(loadConfig({ PORT: "8080" }).port).toBe(8080)
  })

  it("treats empty strings as unset", () => {
    const config = loadConfig({
      PORT: "",
      HOST: "",
      LOG_LEVEL: "",
      DATABASE_URL: "",
      REDIS_URL: "",
    })
    expect(config).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      logLevel: "info",
      databaseUrl: undefined,
      redisUrl: undefined,
    })
  })

  describe("with several bad variables", () => {
    const env = {
      PORT: "abc",
      LOG_LEVEL: "loud",
      DATABASE_URL: "mysql://u:secret@h/db",
      REDIS_URL: "nope",
    }

    it("names every one of them in a single error", () => {
      const error = configErrorFor(env)
      expect(error.name).toBe("ConfigError")
      for (const name of Object.keys(env)) expect(error.message).toContain(name)
    })

    it("does not leak the database password", () => {
      expect(configErrorFor(env).message).not.toContain("secret")
    })
  })

  it("does not leak a password from a URL that cannot be parsed", () => {
    const error = configErrorFor({ DATABASE_URL: "postgres://u:secret@h:99999/db" })
    expect(error.message).toContain("DATABASE_URL")
    expect(error.message).not.toContain("secret")
  })

  it("keeps the database URL redacted", () => {
    const url = "postgres://u:secret@db.example.com:5432/txn"
    const { databaseUrl } = loadConfig({ DATABASE_URL: url })
    expect(databaseUrl).toBeDefined()
    expect(Redacted.value(databaseUrl!)).toBe(url)
    expect(String(databaseUrl)).not.toContain("secret")
    expect(String(databaseUrl)).not.toContain("db.example.com")
    expect(JSON.stringify({ databaseUrl })).not.toContain("secret")
  })
})
