import proxyAddr from "@fastify/proxy-addr"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"

const Port = Schema.NumberFromString.pipe(
  Schema.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 65535 })),
)

/** `10.0.0.0/8, loopback` as its entries. */
const trustedProxyEntries = (value: string) =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")

const PositiveInt = Schema.NumberFromString.pipe(
  Schema.check(Schema.isInt(), Schema.isGreaterThan(0)),
)

const NonNegativeInt = Schema.NumberFromString.pipe(
  Schema.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0)),
)

const Url = (protocols: ReadonlyArray<string>) =>
  Schema.String.pipe(
    Schema.check(
      Schema.makeFilter((value: string) => {
        if (!URL.canParse(value)) return "must be a URL"
        const protocol = new URL(value).protocol.replace(/:$/, "")
        return protocols.includes(protocol) || `must start with ${protocols.join(":// or ")}://`
      }),
    ),
  )

/**
 * One browser origin as `Origin` carries it (`https://app.example.com`, `http://localhost:5173`),
 * or with `:*` for every port of that host (`http://localhost:*`); its canonical form, or what is
 * wrong with it.
 */
export const parseCorsOrigin = (
  entry: string,
): { readonly origin: string } | { readonly problem: string } => {
  const anyPort = entry.endsWith(":*")
  const base = anyPort ? entry.slice(0, -2) : entry
  if (!URL.canParse(base)) return { problem: `${JSON.stringify(entry)} is not an origin` }
  const url = new URL(base)
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { problem: `${JSON.stringify(entry)} must start with http:// or https://` }
  }
  const bare =
    !base.endsWith("/") &&
    url.pathname === "/" &&
    url.search === "" &&
    url.hash === "" &&
    url.username === "" &&
    url.password === "" &&
    !(anyPort && url.port !== "")
  if (!bare || base.includes("?") || base.includes("#")) {
    return {
      problem: `${JSON.stringify(entry)} must be scheme://host[:port] or scheme://host:*, with no path, query or trailing slash`,
    }
  }
  return { origin: anyPort ? `${url.origin}:*` : url.origin }
}

const corsOriginEntries = (value: string) =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")

/** What `npm start` and `npm run dev` allow when TXN_CORS_ORIGINS is unset: pages on this machine. */
export const localCorsOrigins = [
  "http://localhost:*",
  "http://127.0.0.1:*",
  "http://[::1]:*",
  "https://localhost:*",
] as const

const Environment = Schema.Struct({
  DATABASE_URL: Schema.optionalKey(Url(["postgres", "postgresql"])),
  DATABASE_DIRECT_URL: Schema.optionalKey(Url(["postgres", "postgresql"])),
  DATABASE_POOL_MAX: Schema.optionalKey(PositiveInt),
  REDIS_URL: Schema.optionalKey(Url(["redis", "rediss"])),
  HOST: Schema.optionalKey(Schema.NonEmptyString),
  PORT: Schema.optionalKey(Port),
  LOG_LEVEL: Schema.optionalKey(
    Schema.Literals(["trace", "debug", "info", "warn", "error", "fatal"]),
  ),
  TXN_DATA_DIR: Schema.optionalKey(Schema.NonEmptyString),
  TXN_EMBEDDED_PG_PORT: Schema.optionalKey(Port),
  TXN_REQUEST_TIMEOUT_MS: Schema.optionalKey(PositiveInt),
  TXN_ADMIN_TOKEN: Schema.optionalKey(
    Schema.String.pipe(
      Schema.check(
        Schema.makeFilter(
          (token: string) =>
            /^[\x21-\x7e]{32,200}$/.test(token) ||
            "must be 32 to 200 printable characters without spaces",
        ),
      ),
    ),
  ),
  TXN_RATE_LIMIT_PER_MINUTE: Schema.optionalKey(PositiveInt),
  TXN_WEBHOOK_ALLOW_PRIVATE: Schema.optionalKey(Schema.Literals(["true", "false"])),
  TXN_MAX_BATCH_CALLS: Schema.optionalKey(PositiveInt),
  TXN_QUEUE_PREFIX: Schema.optionalKey(
    Schema.String.pipe(
      Schema.check(
        Schema.makeFilter(
          (prefix: string) =>
            /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(prefix) ||
            "must be a letter then up to 39 letters, digits or underscores",
        ),
      ),
    ),
  ),
  TXN_API_KEY_CACHE_TTL_MS: Schema.optionalKey(NonNegativeInt),
  TXN_API_KEY_CACHE_MAX: Schema.optionalKey(PositiveInt),
  TXN_SUMMARY_CACHE_MAX: Schema.optionalKey(NonNegativeInt),
  TXN_LIVE_POLL_MS: Schema.optionalKey(
    Schema.NumberFromString.pipe(
      Schema.check(Schema.isInt(), Schema.isBetween({ minimum: 10, maximum: 10_000 })),
    ),
  ),
  TXN_LIVE_MAX_STREAMS: Schema.optionalKey(PositiveInt),
  TXN_WORKER_METRICS_PORT: Schema.optionalKey(Port),
  OTEL_EXPORTER_OTLP_ENDPOINT: Schema.optionalKey(Url(["http", "https"])),
  TXN_TRUSTED_PROXIES: Schema.optionalKey(
    Schema.String.pipe(
      Schema.check(
        Schema.makeFilter((value: string) => {
          const entries = trustedProxyEntries(value)
          if (entries.length === 0) return "must list at least one address or range"
          try {
            proxyAddr.compile(entries)
            return true
          } catch (error) {
            return `must list IP addresses or CIDR ranges (or loopback, linklocal, uniquelocal) separated by commas: ${(error as Error).message}`
          }
        }),
      ),
    ),
  ),
  TXN_CORS_ORIGINS: Schema.optionalKey(
    Schema.String.pipe(
      Schema.check(
        Schema.makeFilter((value: string) => {
          if (value.trim() === "none") return true
          const entries = corsOriginEntries(value)
          if (entries.length === 0) return "must list origins separated by commas, or be none"
          for (const entry of entries) {
            const parsed = parseCorsOrigin(entry)
            if ("problem" in parsed) return parsed.problem
          }
          return true
        }),
      ),
    ),
  ),
})

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal"

export interface AppConfig {
  /** Unset means "start the embedded PostgreSQL under `dataDir`". */
  readonly databaseUrl: Redacted.Redacted<string> | undefined
  /**
   * PostgreSQL itself when DATABASE_URL is a pooler in transaction mode (PgBouncer): what needs a
   * session of its own (LISTEN for API key changes, the PostgreSQL queue backend) connects here,
   * and statements through the pooler are not prepared. Unset, DATABASE_URL is PostgreSQL itself.
   */
  readonly databaseDirectUrl: Redacted.Redacted<string> | undefined
  readonly databasePoolMax: number
  /** Unset means "run BullMQ on the PostgreSQL backend". */
  readonly redisUrl: Redacted.Redacted<string> | undefined
  readonly host: string
  readonly port: number
  readonly logLevel: LogLevel
  readonly dataDir: string
  readonly embeddedPostgresPort: number
  readonly requestTimeoutMs: number
  /** Unset means the admin API is off (the CLI still works: it talks to the database). */
  readonly adminToken: Redacted.Redacted<string> | undefined
  /** Requests per minute per API key (and per client address before authentication). */
  readonly rateLimitPerMinute: number
  /**
   * Lets webhooks target loopback, private, link-local and unique-local addresses, for receivers
   * on a developer's machine and in tests. Never with NODE_ENV=production.
   */
  readonly webhookAllowPrivate: boolean
  /**
   * Whether a process brings the database's schema up to date when it starts: always but with
   * NODE_ENV=production, where the migration Job does it once.
   */
  readonly migrateOnStart: boolean
  /** Calls one batched tRPC request may carry; more answer 413 before any of them runs. */
  readonly maxBatchCalls: number
  /**
   * What every queue's Redis keys start with (on the PostgreSQL backend, its schema), so several
   * deployments can share one Redis without taking each other's jobs.
   */
  readonly queuePrefix: string
  /**
   * How long the API trusts an API key it checked before looking it up again; a revocation
   * reaches every API process sooner, through the database. 0 turns the cache off.
   */
  readonly apiKeyCacheTtlMs: number
  /** API keys one API process keeps checked at most. */
  readonly apiKeyCacheMax: number
  /**
   * Summaries one API process keeps, each served again only while no change of its user's
   * transactions has committed since. 0 turns the cache off.
   */
  readonly summaryCacheMax: number
  /**
   * Browser origins that may call the API from their pages (CORS): `scheme://host[:port]`, or
   * `scheme://host:*` for any port. None in production unless TXN_CORS_ORIGINS lists them; pages on
   * localhost otherwise.
   */
  readonly corsOrigins: ReadonlyArray<string>
  /**
   * How often an API process reads the change feed for its live subscribers (10 to 10,000 ms),
   * while it has any: the longest a settled change waits before it is sent.
   */
  readonly livePollMs: number
  /** Live streams (tRPC subscriptions and REST SSE) one API process holds at once. */
  readonly liveMaxSubscribers: number
  /**
   * The load balancers and proxies in front of the API (addresses, CIDR ranges, or `loopback`,
   * `linklocal`, `uniquelocal`): a request from one of them is counted against the address its
   * `X-Forwarded-For` names, as far back as the chain is trusted. None by default: the header is
   * ignored, since any client could write it.
   */
  readonly trustedProxies: ReadonlyArray<string>
  /** Where the worker serves /metrics on `host`; unset, it serves nothing. */
  readonly workerMetricsPort: number | undefined
  /**
   * An OpenTelemetry collector's OTLP/HTTP base URL (`http://collector:4318`): traces go to its
   * `/v1/traces` as JSON. Unset, nothing is traced.
   */
  readonly otlpEndpoint: string | undefined
}

export class ConfigError extends Error {
  override readonly name = "ConfigError"
}

/**
 * Reads and validates the environment in one place; every bad variable is named in the error.
 * Values of URL variables never appear in messages because they may carry passwords.
 */
export const loadConfig = (env: Record<string, string | undefined> = process.env): AppConfig => {
  const present = Object.fromEntries(
    Object.keys(Environment.fields).flatMap((key) => {
      const value = env[key]
      return value === undefined || value === "" ? [] : [[key, value]]
    }),
  )
  const decoded = Schema.decodeUnknownResult(Environment)(present, { errors: "all" })
  const problems = Result.isFailure(decoded)
    ? SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues.map(
        (issue) => `  ${issue.path?.join(".") ?? "?"}: ${issue.message}`,
      )
    : []
  // In production any API key holder could otherwise point deliveries at the internal network.
  if (env.NODE_ENV === "production" && present.TXN_WEBHOOK_ALLOW_PRIVATE === "true") {
    problems.push(
      "  TXN_WEBHOOK_ALLOW_PRIVATE: must not be true with NODE_ENV=production; webhooks would reach the internal network",
    )
  }
  if (Result.isFailure(decoded) || problems.length > 0) {
    throw new ConfigError(`Invalid environment:\n${problems.join("\n")}`)
  }
  const e = decoded.success
  return {
    databaseUrl: e.DATABASE_URL === undefined ? undefined : Redacted.make(e.DATABASE_URL),
    databaseDirectUrl:
      e.DATABASE_DIRECT_URL === undefined ? undefined : Redacted.make(e.DATABASE_DIRECT_URL),
    databasePoolMax: e.DATABASE_POOL_MAX ?? 10,
    redisUrl: e.REDIS_URL === undefined ? undefined : Redacted.make(e.REDIS_URL),
    host: e.HOST ?? "127.0.0.1",
    port: e.PORT ?? 3000,
    logLevel: e.LOG_LEVEL ?? "info",
    dataDir: e.TXN_DATA_DIR ?? ".data",
    embeddedPostgresPort: e.TXN_EMBEDDED_PG_PORT ?? 54329,
    requestTimeoutMs: e.TXN_REQUEST_TIMEOUT_MS ?? 10_000,
    adminToken: e.TXN_ADMIN_TOKEN === undefined ? undefined : Redacted.make(e.TXN_ADMIN_TOKEN),
    rateLimitPerMinute: e.TXN_RATE_LIMIT_PER_MINUTE ?? 1_200,
    webhookAllowPrivate: e.TXN_WEBHOOK_ALLOW_PRIVATE === "true",
    maxBatchCalls: e.TXN_MAX_BATCH_CALLS ?? 50,
    queuePrefix: e.TXN_QUEUE_PREFIX ?? "txn",
    apiKeyCacheTtlMs: e.TXN_API_KEY_CACHE_TTL_MS ?? 30_000,
    apiKeyCacheMax: e.TXN_API_KEY_CACHE_MAX ?? 10_000,
    summaryCacheMax: e.TXN_SUMMARY_CACHE_MAX ?? 200,
    migrateOnStart: env.NODE_ENV !== "production",
    livePollMs: e.TXN_LIVE_POLL_MS ?? 100,
    liveMaxSubscribers: e.TXN_LIVE_MAX_STREAMS ?? 10_000,
    workerMetricsPort: e.TXN_WORKER_METRICS_PORT,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    trustedProxies:
      e.TXN_TRUSTED_PROXIES === undefined ? [] : trustedProxyEntries(e.TXN_TRUSTED_PROXIES),
    corsOrigins:
      e.TXN_CORS_ORIGINS === undefined
        ? env.NODE_ENV === "production"
          ? []
          : localCorsOrigins
        : e.TXN_CORS_ORIGINS.trim() === "none"
          ? []
          : corsOriginEntries(e.TXN_CORS_ORIGINS).map((entry) => {
              const parsed = parseCorsOrigin(entry)
              return "origin" in parsed ? parsed.origin : entry
            }),
  }
}

/** For process entry points: a bad environment prints what is wrong and exits with status 1. */
export const loadConfigOrExit = (
  env: Record<string, string | undefined> = process.env,
): AppConfig => {
  try {
    return loadConfig(env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    return process.exit(1)
  }
}
