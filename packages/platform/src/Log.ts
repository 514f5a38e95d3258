import type { LogLevel } from "@txn/config"
import * as Cause from "effect/Cause"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { pino } from "pino"

export type Log = pino.Logger

/** Words that never reach a log line, wherever they appear in a logged object. */
const redactedPaths = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "password",
  "*.password",
  "databaseUrl",
  "redisUrl",
  "*.databaseUrl",
  "*.redisUrl",
]

const censor = "[redacted]"
const secretKeys = new Set(["authorization", "password", "databaseUrl", "redisUrl"])

/**
 * A copy of a logged object with every secret key censored at any depth: pino's paths stop at a
 * fixed depth. Only plain objects and arrays are copied; errors and other instances keep their
 * own serializers.
 */
const withoutSecrets = (value: unknown, ancestors: ReadonlySet<object> = new Set()): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (ancestors.has(value)) return "[Circular]"
  const inside = new Set(ancestors).add(value)
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, inside))
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      secretKeys.has(key) ? censor : withoutSecrets(item, inside),
    ]),
  )
}

/**
 * Whether `withoutSecrets` would change anything: a secret key or a cycle somewhere inside. Most
 * lines (every request's) have neither, and are logged without being copied.
 */
const holdsSecrets = (value: unknown, ancestors: Array<object> = []): boolean => {
  if (typeof value !== "object" || value === null) return false
  if (ancestors.includes(value)) return true
  if (Array.isArray(value)) {
    ancestors.push(value)
    const found = value.some((item) => holdsSecrets(item, ancestors))
    ancestors.pop()
    return found
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return false
  ancestors.push(value)
  let found = false
  for (const key of Object.keys(value)) {
    if (secretKeys.has(key) || holdsSecrets((value as Record<string, unknown>)[key], ancestors)) {
      found = true
      break
    }
  }
  ancestors.pop()
  return found
}

/** Structured JSON lines on stdout, one logger per process. */
export const makeLog = (options: {
  readonly name: string
  readonly level: LogLevel
  /** Defaults to stdout. */
  readonly destination?: pino.DestinationStream
}): Log =>
  pino(
    {
      name: options.name,
      level: options.level,
      base: { service: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) =>
          holdsSecrets(object) ? (withoutSecrets(object) as Record<string, unknown>) : object,
      },
    },
    options.destination,
  )

const levels = {
  All: "trace",
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warn: "warn",
  Error: "error",
  Fatal: "fatal",
  None: "silent",
} as const

/** Sends Effect's logs (with their annotations, such as the request id) to the process's logger. */
export const logLayer = (log: Log) =>
  Layer.mergeAll(
    Logger.layer([
      Logger.make(({ message, logLevel, cause, fiber }) => {
        const level = levels[logLevel]
        if (level === "silent") return
        const fields: Record<string, unknown> = {
          ...fiber.getRef(References.CurrentLogAnnotations),
        }
        if (cause.reasons.length > 0) fields.cause = Cause.pretty(cause)
        const parts = Array.isArray(message) ? message : [message]
        log[level](
          fields,
          // Objects logged as messages become text here, out of reach of pino's redaction.
          parts
            .map((part) =>
              typeof part === "string"
                ? part
                : JSON.stringify(part, (key, value) => (secretKeys.has(key) ? censor : value)),
            )
            .join(" "),
        )
      }),
    ]),
    Layer.succeed(References.MinimumLogLevel, "Trace"),
  )
