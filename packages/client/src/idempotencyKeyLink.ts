import type { TRPCLink } from "@trpc/client"
import { type AppRouter, idempotentCreates } from "./generated/AppRouter.ts"

const creates = new Set(idempotentCreates)

/**
 * A fresh idempotency key: 128 random bits. `crypto.getRandomValues` rather than `randomUUID`,
 * which browsers offer only on https and localhost pages.
 */
export const newIdempotencyKey = (): string =>
  `idk_${Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("")}`

/**
 * A link that gives every create sent without an idempotency key a fresh one, so that the retry
 * link may send it again after a network failure: the API answers a repeat with the first result.
 */
export const idempotencyKeyLink =
  (): TRPCLink<AppRouter> =>
  () =>
  ({ op, next }) => {
    const input = op.input
    const needsKey =
      op.type === "mutation" &&
      creates.has(op.path) &&
      typeof input === "object" &&
      input !== null &&
      (input as { idempotencyKey?: unknown }).idempotencyKey === undefined
    return next(needsKey ? { ...op, input: { ...input, idempotencyKey: newIdempotencyKey() } } : op)
  }
