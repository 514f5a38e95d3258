import type { LogLevel } from "@txn/config"
import { Cause, Layer, Logger, References } from "effect"
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
      redact: { paths: redactedPaths, censor: "[redacted]" },
      formatters: { level: (label) => ({ level: label }) },
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
          parts.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join(" "),
        )
      }),
    ]),
    Layer.succeed(References.MinimumLogLevel, "Trace"),
  )
