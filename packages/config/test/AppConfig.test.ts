import * as Redacted from "effect/Redacted"
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

  it("reads DATABASE_DIRECT_URL as a redacted PostgreSQL URL, unset by default", () => {
    expect(loadConfig({}).databaseDirectUrl).toBeUndefined()
    const url = "postgres://u:secret@postgres.internal:5432/txn"
    const { databaseDirectUrl } = loadConfig({ DATABASE_DIRECT_URL: url })
    expect(Redacted.value(databaseDirectUrl!)).toBe(url)
    expect(String(databaseDirectUrl)).not.toContain("secret")
    const error = configErrorFor({ DATABASE_DIRECT_URL: "http://u:secret@h/db" })
    expect(error.message).toContain("DATABASE_DIRECT_URL")
    expect(error.message).not.toContain("secret")
  })

  it("reads TXN_WORKER_METRICS_PORT as a port, unset by default", () => {
    expect(loadConfig({}).workerMetricsPort).toBeUndefined()
    expect(loadConfig({ TXN_WORKER_METRICS_PORT: "9464" }).workerMetricsPort).toBe(9464)
    expect(configErrorFor({ TXN_WORKER_METRICS_PORT: "70000" }).message).toContain(
      "TXN_WORKER_METRICS_PORT",
    )
  })

  it("reads OTEL_EXPORTER_OTLP_ENDPOINT as an http(s) URL, unset by default", () => {
    expect(loadConfig({}).otlpEndpoint).toBeUndefined()
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).otlpEndpoint).toBe(
      "http://collector:4318",
    )
    expect(configErrorFor({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }).message).toContain(
      "OTEL_EXPORTER_OTLP_ENDPOINT",
    )
  })

  describe("TXN_ADMIN_TOKEN", () => {
    const token = "s3cr3t-Admin_token.0123456789abcdef"

    it("is unset by default, which turns the admin API off", () => {
      expect(loadConfig({}).adminToken).toBeUndefined()
      expect(loadConfig({ TXN_ADMIN_TOKEN: "" }).adminToken).toBeUndefined()
    })

    it("keeps a valid token redacted", () => {
      const { adminToken } = loadConfig({ TXN_ADMIN_TOKEN: token })
      expect(adminToken).toBeDefined()
      expect(Redacted.value(adminToken!)).toBe(token)
      expect(String(adminToken)).not.toContain(token)
      expect(JSON.stringify({ adminToken })).not.toContain(token)
    })

    it("accepts 32 and 200 printable characters", () => {
      for (const value of ["a".repeat(32), "~".repeat(200), "!#$%&'()*+,-./:;<=>?@[]^_`{|}~0123"]) {
        expect(Redacted.value(loadConfig({ TXN_ADMIN_TOKEN: value }).adminToken!)).toBe(value)
      }
    })

    it.each([
      ["31 characters", "x".repeat(31)],
      ["201 characters", "x".repeat(201)],
      ["a space", "correct horse battery staple secret"],
      ["a tab", "correct\thorse\tbattery\tstaple\tsecret"],
      ["a non-ASCII character", "correct-horse-battery-staple-sécret"],
      ["a newline", "correct-horse-battery\nstaple-secret-value"],
    ])("rejects a token with %s, naming the variable but never the value", (_, value) => {
      const error = configErrorFor({ TXN_ADMIN_TOKEN: value })
      expect(error.message).toContain("TXN_ADMIN_TOKEN")
      expect(error.message).toContain("32 to 200 printable characters")
      expect(error.message).not.toContain(value)
      expect(error.message).not.toContain(value.slice(0, 8))
    })
  })

  describe("TXN_RATE_LIMIT_PER_MINUTE", () => {
    it("defaults to 1200 requests per minute", () => {
      expect(loadConfig({}).rateLimitPerMinute).toBe(1_200)
      expect(loadConfig({ TXN_RATE_LIMIT_PER_MINUTE: "" }).rateLimitPerMinute).toBe(1_200)
    })

    it("reads a positive integer", () => {
      expect(loadConfig({ TXN_RATE_LIMIT_PER_MINUTE: "60" }).rateLimitPerMinute).toBe(60)
      expect(loadConfig({ TXN_RATE_LIMIT_PER_MINUTE: "1" }).rateLimitPerMinute).toBe(1)
    })

    it.each(["0", "-5", "1.5", "many", "10/min"])("rejects %j, naming the variable", (value) => {
      expect(configErrorFor({ TXN_RATE_LIMIT_PER_MINUTE: value }).message).toContain(
        "TXN_RATE_LIMIT_PER_MINUTE",
      )
    })
  })

  describe("TXN_WEBHOOK_ALLOW_PRIVATE", () => {
    it("is off unless set to true", () => {
      expect(loadConfig({}).webhookAllowPrivate).toBe(false)
      expect(loadConfig({ TXN_WEBHOOK_ALLOW_PRIVATE: "" }).webhookAllowPrivate).toBe(false)
      expect(loadConfig({ TXN_WEBHOOK_ALLOW_PRIVATE: "false" }).webhookAllowPrivate).toBe(false)
      expect(loadConfig({ TXN_WEBHOOK_ALLOW_PRIVATE: "true" }).webhookAllowPrivate).toBe(true)
    })

    it.each(["1", "yes", "TRUE", "on"])("rejects %j, naming the variable", (value) => {
      expect(configErrorFor({ TXN_WEBHOOK_ALLOW_PRIVATE: value }).message).toContain(
        "TXN_WEBHOOK_ALLOW_PRIVATE",
      )
    })

    it("refuses to start with private targets on in production", () => {
      const error = configErrorFor({ NODE_ENV: "production", TXN_WEBHOOK_ALLOW_PRIVATE: "true" })
      expect(error.message).toContain("TXN_WEBHOOK_ALLOW_PRIVATE")
      expect(error.message).toContain("NODE_ENV=production")
      expect(
        loadConfig({ NODE_ENV: "production", TXN_WEBHOOK_ALLOW_PRIVATE: "false" })
          .webhookAllowPrivate,
      ).toBe(false)
    })

    it("names every bad variable when production also has another one wrong", () => {
      const error = configErrorFor({
        NODE_ENV: "production",
        TXN_WEBHOOK_ALLOW_PRIVATE: "true",
        PORT: "abc",
      })
      expect(error.message).toContain("TXN_WEBHOOK_ALLOW_PRIVATE")
      expect(error.message).toContain("PORT")
    })
  })

  describe("TXN_MAX_BATCH_CALLS", () => {
    it("defaults to 50 calls per batch", () => {
      expect(loadConfig({}).maxBatchCalls).toBe(50)
      expect(loadConfig({ TXN_MAX_BATCH_CALLS: "" }).maxBatchCalls).toBe(50)
    })

    it("reads a positive integer", () => {
      expect(loadConfig({ TXN_MAX_BATCH_CALLS: "200" }).maxBatchCalls).toBe(200)
      expect(loadConfig({ TXN_MAX_BATCH_CALLS: "1" }).maxBatchCalls).toBe(1)
    })

    it.each(["0", "-1", "2.5", "all"])("rejects %j, naming the variable", (value) => {
      expect(configErrorFor({ TXN_MAX_BATCH_CALLS: value }).message).toContain(
        "TXN_MAX_BATCH_CALLS",
      )
    })
  })

  describe("TXN_LIVE_POLL_MS and TXN_LIVE_MAX_STREAMS", () => {
    it("default to reading every 100 ms and holding 10,000 streams", () => {
      expect(loadConfig({})).toMatchObject({ livePollMs: 100, liveMaxSubscribers: 10_000 })
    })

    it("read the interval between 10 and 10,000 ms and a positive stream count", () => {
      expect(loadConfig({ TXN_LIVE_POLL_MS: "10", TXN_LIVE_MAX_STREAMS: "1" })).toMatchObject({
        livePollMs: 10,
        liveMaxSubscribers: 1,
      })
      expect(loadConfig({ TXN_LIVE_POLL_MS: "10000" }).livePollMs).toBe(10_000)
    })

    it.each([
      ["TXN_LIVE_POLL_MS", "9"],
      ["TXN_LIVE_POLL_MS", "10001"],
      ["TXN_LIVE_POLL_MS", "2.5"],
      ["TXN_LIVE_MAX_STREAMS", "0"],
      ["TXN_LIVE_MAX_STREAMS", "many"],
    ])("rejects %s=%j, naming the variable", (name, value) => {
      expect(configErrorFor({ [name]: value }).message).toContain(name)
    })
  })

  describe("TXN_QUEUE_PREFIX", () => {
    it("defaults to txn", () => {
      expect(loadConfig({}).queuePrefix).toBe("txn")
      expect(loadConfig({ TXN_QUEUE_PREFIX: "" }).queuePrefix).toBe("txn")
    })

    it("reads a prefix of letters, digits and underscores", () => {
      expect(loadConfig({ TXN_QUEUE_PREFIX: "txn_staging_2" }).queuePrefix).toBe("txn_staging_2")
    })

    it.each(["1txn", "txn:x", "txn-x", "a".repeat(41)])(
      "rejects %j, naming the variable",
      (value) => {
        expect(configErrorFor({ TXN_QUEUE_PREFIX: value }).message).toContain("TXN_QUEUE_PREFIX")
      },
    )
  })

  describe("TXN_API_KEY_CACHE_TTL_MS and TXN_API_KEY_CACHE_MAX", () => {
    it("default to 30 s and 10,000 keys", () => {
      expect(loadConfig({})).toMatchObject({ apiKeyCacheTtlMs: 30_000, apiKeyCacheMax: 10_000 })
    })

    it("read 0 as the cache turned off, and a positive size", () => {
      expect(
        loadConfig({ TXN_API_KEY_CACHE_TTL_MS: "0", TXN_API_KEY_CACHE_MAX: "5" }),
      ).toMatchObject({ apiKeyCacheTtlMs: 0, apiKeyCacheMax: 5 })
    })

    it.each([
      ["TXN_API_KEY_CACHE_TTL_MS", "-1"],
      ["TXN_API_KEY_CACHE_TTL_MS", "1.5"],
      ["TXN_API_KEY_CACHE_MAX", "0"],
    ])("rejects %s=%j, naming the variable", (name, value) => {
      expect(configErrorFor({ [name]: value }).message).toContain(name)
    })
  })

  describe("TXN_CORS_ORIGINS", () => {
    it("allows pages on this machine when unset, and none with NODE_ENV=production", () => {
      expect(loadConfig({}).corsOrigins).toEqual([
        "http://localhost:*",
        "http://127.0.0.1:*",
        "http://[::1]:*",
        "https://localhost:*",
      ])
      expect(loadConfig({ NODE_ENV: "production" }).corsOrigins).toEqual([])
    })

    it("reads a list of origins as browsers send them, any port with :*, or none", () => {
      expect(
        loadConfig({
          NODE_ENV: "production",
          TXN_CORS_ORIGINS:
            " https://App.Example.com , http://localhost:5173,https://shop.example:443,http://[::1]:*",
        }).corsOrigins,
      ).toEqual([
        "https://app.example.com",
        "http://localhost:5173",
        "https://shop.example",
        "http://[::1]:*",
      ])
      expect(loadConfig({ TXN_CORS_ORIGINS: "none" }).corsOrigins).toEqual([])
    })

    it.each([
      "*",
      "app.example.com",
      "ftp://app.example.com",
      "https://app.example.com/",
      "https://app.example.com/path",
      "https://app.example.com?x=1",
      "https://user@app.example.com",
      "https://app.example.com:99999",
      "https://app.example.com:8443:*",
      "null",
      " , ",
    ])("rejects %j, naming the variable and the entry", (value) => {
      const message = configErrorFor({ TXN_CORS_ORIGINS: value }).message
      expect(message).toContain("TXN_CORS_ORIGINS")
      if (value.trim().replace(",", "").trim() !== "")
        expect(message).toContain(JSON.stringify(value.trim()))
    })
  })

  describe("TXN_TRUSTED_PROXIES", () => {
    it("trusts no proxy when unset, and reads addresses, ranges and named ranges", () => {
      expect(loadConfig({}).trustedProxies).toEqual([])
      expect(
        loadConfig({ TXN_TRUSTED_PROXIES: " 10.0.0.0/8, loopback,fd00::/8 ,192.168.1.7" })
          .trustedProxies,
      ).toEqual(["10.0.0.0/8", "loopback", "fd00::/8", "192.168.1.7"])
    })

    it.each(["example.com", "10.0.0.0/33", "300.1.1.1", " , ", "*"])(
      "rejects %j, naming the variable",
      (value) => {
        expect(configErrorFor({ TXN_TRUSTED_PROXIES: value }).message).toContain(
          "TXN_TRUSTED_PROXIES",
        )
      },
    )
  })
})
