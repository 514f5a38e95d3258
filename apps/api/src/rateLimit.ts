import type { ServerResponse } from "node:http"
import { RateLimited } from "@txn/domain"
import type { Redis } from "ioredis"
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from "rate-limiter-flexible"
import type { Caller } from "./context.ts"

export interface RateLimitDecision {
  /** Whether every call counted was within the budget. */
  readonly allowed: boolean
  /** How many of the calls counted, in order, were within the budget; the rest are refused. */
  readonly admitted: number
  readonly limit: number
  readonly remaining: number
  /** Seconds until the window resets (and, when refused, until a retry can succeed). */
  readonly resetSeconds: number
}

export interface RateLimit {
  /** Counts `calls` (default 1) against `key`'s budget at once, refused ones included. */
  readonly consume: (key: string, calls?: number) => Promise<RateLimitDecision>
}

/**
 * `points` requests per key per minute, counted in Redis when one is given (shared by every API
 * replica), in this process otherwise. If Redis fails or takes longer than `redisTimeoutMs` to
 * answer, counting falls back to memory rather than refusing or waving everything through.
 */
export const makeRateLimit = (options: {
  readonly points: number
  readonly redis?: Redis | undefined
  readonly keyPrefix?: string
  /** How long to wait for Redis before counting in memory; default 500 ms. */
  readonly redisTimeoutMs?: number
}): RateLimit => {
  const settings = { points: options.points, duration: 60, keyPrefix: options.keyPrefix ?? "rl" }
  const memory = new RateLimiterMemory(settings)
  // A Redis that stops answering without closing the connection (a partition, a stalled server)
  // never fails a command, so only a timeout gets such requests to the in-memory fallback. The
  // fallback sits on the wrapper alone, so a command that fails after its timeout is not counted
  // in memory a second time.
  const limiter =
    options.redis === undefined
      ? memory
      : new RLWrapperTimeouts({
          limiter: new RateLimiterRedis({ ...settings, storeClient: options.redis }),
          timeoutMs: options.redisTimeoutMs ?? 500,
          insuranceLimiter: memory,
        })
  const decision = (calls: number, res: RateLimiterRes): RateLimitDecision => {
    // `consumedPoints` includes these calls: those that fit under the limit are admitted.
    const admitted = Math.min(calls, Math.max(0, options.points - (res.consumedPoints - calls)))
    return {
      allowed: admitted === calls,
      admitted,
      limit: options.points,
      remaining: Math.max(0, options.points - res.consumedPoints),
      resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    }
  }
  return {
    consume: (key, calls = 1) =>
      limiter.consume(key, calls).then(
        (res) => decision(calls, res),
        (rejection: unknown) => {
          if (rejection instanceof RateLimiterRes) return decision(calls, rejection)
          throw rejection
        },
      ),
  }
}

/**
 * Whose budget a call counts against: its API key, the admin's, or its client address while the
 * caller is unknown, so guessing keys is throttled too.
 */
export const rateLimitKeyOf = (caller: Caller, clientAddress: string) =>
  caller.kind === "user"
    ? `key:${caller.keyId}`
    : caller.kind === "admin"
      ? "admin"
      : `ip:${clientAddress}`

/** The standard RateLimit-* headers, and Retry-After when refused. */
export const setRateLimitHeaders = (response: ServerResponse, decision: RateLimitDecision) => {
  if (response.headersSent) return
  response.setHeader("RateLimit-Limit", decision.limit)
  response.setHeader("RateLimit-Remaining", decision.remaining)
  response.setHeader("RateLimit-Reset", decision.resetSeconds)
  if (!decision.allowed) response.setHeader("Retry-After", decision.resetSeconds)
}

export const rateLimitRefusal = (decision: RateLimitDecision) =>
  new RateLimited({
    message: `Rate limit of ${decision.limit} requests per minute reached; retry in ${decision.resetSeconds} s`,
    retryAfterSeconds: decision.resetSeconds,
  })
