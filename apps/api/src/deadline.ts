import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"

/**
 * When a request must have its answer. Authentication, the rate limit and the use case all wait
 * against this one moment, so their waits cannot add up past `TXN_REQUEST_TIMEOUT_MS`.
 */
export interface Deadline {
  /** The `performance.now()` at which time is up. */
  readonly at: number
}

export const deadlineIn = (ms: number): Deadline => ({ at: performance.now() + ms })

export const remainingMs = (deadline: Deadline) => Math.max(0, deadline.at - performance.now())

/**
 * Runs `effect` in a fiber of its own and waits for it; interrupting the wait interrupts that
 * fiber without waiting for it to wind down. A query on a stalled database takes seconds to
 * cancel (its cancel request gets no answer either): the answer must not wait for that clean-up,
 * which the connection finishes in the background.
 */
const detached = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Effect.forkDetach(restore(effect)), (fiber) =>
      restore(Fiber.join(fiber)).pipe(
        Effect.onInterrupt(() => Effect.sync(() => fiber.interruptUnsafe())),
      ),
    ),
  )

/** `effect`, or `orElse` as soon as the deadline passes; `effect` is then interrupted. */
export const beforeDeadline =
  <E2>(deadline: Deadline, orElse: () => Effect.Effect<never, E2>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> =>
    Effect.suspend(() =>
      detached(effect).pipe(Effect.timeoutOrElse({ duration: remainingMs(deadline), orElse })),
    )

/** `promise`, or a rejection with `timedOut()` as soon as the deadline passes. */
export const promiseBeforeDeadline = <A>(
  deadline: Deadline,
  promise: Promise<A>,
  timedOut: () => unknown,
): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), remainingMs(deadline))
  })
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer))
}
