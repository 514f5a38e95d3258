import {
  type AccountId,
  ChangeFeed,
  type ChangesPosition,
  type FeedEntry,
  isAfter,
  type UserId,
} from "@txn/domain"
import type { Log } from "@txn/platform"
import * as Effect from "effect/Effect"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import { beforeDeadline, deadlineIn } from "./deadline.ts"

export interface LiveFeedOptions {
  /** How often the feed is read while anyone subscribes. */
  readonly pollMs: number
  /** Entries held for one subscriber before it reads the rest from the database itself. */
  readonly maxQueued: number
  /** Subscriptions this process holds at once; more are refused. */
  readonly maxSubscribers: number
  /** How long one read of the feed may take before it counts as failed (a stalled database). */
  readonly readTimeoutMs: number
  /**
   * Tells the other API processes that this one has just written (Redis pub/sub), so they read
   * the feed at once rather than at their next poll; they call `heard()`.
   */
  readonly announce?: (() => void) | undefined
}

export interface Subscription {
  readonly userId: UserId
  /** Only these accounts' changes, if given. */
  readonly accountIds?: ReadonlyArray<AccountId> | undefined
  /**
   * Every entry after this position is delivered, none before it: the last event a client got,
   * or the feed's head when it subscribed (undefined: the feed was empty, so all of it).
   */
  readonly after: ChangesPosition | undefined
  /** Ends the subscription (the client went away). */
  readonly signal: AbortSignal
  /** Ends the subscription at this time (a client token's expiry), if given. */
  readonly until?: Date | undefined
}

/**
 * Why a subscription ended other than by its client leaving: its token expired, the feed closed
 * (shutdown), or its own read of the feed failed.
 */
export type LiveEnd = "expired" | "closed" | "failed"

/** The limit of `maxSubscribers` was reached. */
export class LiveFeedFull extends Error {}

/** Rows read at once, by the feed's poll and by a subscriber catching up. */
const pageSize = 500

/** After a write, the poll reads this often until it finds it, for this long at most. */
const eagerPollMs = 25
const eagerForMs = 10_000

interface Subscriber {
  readonly accountIds: ReadonlyArray<AccountId> | undefined
  readonly queue: Array<FeedEntry>
  /** The position of the last entry queued (or delivered before a resume). */
  last: ChangesPosition | undefined
  /**
   * `live`: entries arrive from the feed's poll. `catchingUp`: this subscriber reads them from
   * the database (on resume, or after falling `maxQueued` behind); meanwhile the poll's entries
   * are kept in `pending`, in case the subscriber's last read ended before them.
   */
  mode: "live" | "catchingUp"
  pending: Array<FeedEntry> | undefined
  wake: (() => void) | undefined
}

/**
 * Live changes for every subscriber of this API process, from the change feed in PostgreSQL: one
 * read per poll for all of them (only their users' entries), fanned out in memory. Writes made
 * through any API process or worker reach every process this way, in the feed's order. A
 * subscriber that resumes, or falls too far behind, reads its own entries from the database until
 * it is level with the poll again, so each entry reaches it exactly once and in order.
 */
export const makeLiveFeed = (
  runtime: ManagedRuntime.ManagedRuntime<ChangeFeed, never>,
  log: Log,
  options: LiveFeedOptions,
) => {
  const subscribers = new Map<UserId, Set<Subscriber>>()
  let count = 0
  /** Where the poll has read up to; undefined until its first read of the head. */
  let position: ChangesPosition | undefined
  let started = false
  /** Whether a poll is scheduled or running. */
  let polling = false
  /** Whether a poll is running now, and whether another should follow it at once. */
  let reading = false
  let again = false
  let announcing = false
  /**
   * Until when the poll reads every 25 ms: a write just answered may not be readable yet (the
   * feed shows a change once every older database transaction has ended), and waiting a whole
   * poll interval for it would undo the announcement. Ends when a read finds something.
   */
  let eagerUntil = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false

  /** A read of the feed, failed rather than waited on past `readTimeoutMs`. */
  const within = <A>(effect: Effect.Effect<A, never, ChangeFeed>) =>
    runtime.runPromise(
      effect.pipe(
        beforeDeadline(deadlineIn(options.readTimeoutMs), () =>
          Effect.die(new Error("The change feed did not answer in time")),
        ),
      ),
    )
  const read = (query: Parameters<ChangeFeed["Service"]["after"]>[0]) =>
    within(ChangeFeed.use((feed) => feed.after(query)))

  const deliver = (subscriber: Subscriber, entry: FeedEntry) => {
    if (
      subscriber.accountIds !== undefined &&
      !subscriber.accountIds.includes(entry.change.accountId)
    ) {
      return
    }
    if (subscriber.mode === "catchingUp") {
      subscriber.pending?.push(entry)
      return
    }
    if (!isAfter(entry.position, subscriber.last)) return
    if (subscriber.queue.length >= options.maxQueued) {
      // Too far behind: stop holding entries for it; it reads them from the database.
      subscriber.mode = "catchingUp"
      subscriber.pending = undefined
    } else {
      subscriber.queue.push(entry)
      subscriber.last = entry.position
    }
    subscriber.wake?.()
  }

  const poll = async () => {
    timer = undefined
    if (count === 0 || closed) {
      polling = false
      started = false
      position = undefined
      return
    }
    reading = true
    again = false
    try {
      if (!started) {
        position = await within(ChangeFeed.use((feed) => feed.head))
        started = true
      }
      for (;;) {
        const entries = await read({ position, userIds: [...subscribers.keys()], limit: pageSize })
        if (entries.length > 0) eagerUntil = 0
        for (const entry of entries) {
          position = entry.position
          for (const subscriber of subscribers.get(entry.userId) ?? []) deliver(subscriber, entry)
        }
        if (entries.length < pageSize) break
      }
    } catch (error) {
      log.warn({ error: String(error) }, "live feed read failed; retrying")
    }
    reading = false
    if (!closed && count > 0) {
      const eager = performance.now() < eagerUntil
      timer = setTimeout(
        poll,
        again ? 0 : eager ? Math.min(eagerPollMs, options.pollMs) : options.pollMs,
      )
    } else {
      polling = false
      started = false
      position = undefined
    }
  }

  /** Reads the subscriber's own entries after its last one, until level with the poll. */
  const catchUp = async (userId: UserId, subscriber: Subscriber) => {
    subscriber.pending = []
    const entries = await read({
      position: subscriber.last,
      userIds: [userId],
      accountIds: subscriber.accountIds,
      limit: pageSize,
    })
    for (const entry of entries) {
      subscriber.queue.push(entry)
      subscriber.last = entry.position
    }
    if (entries.length < pageSize) {
      // Level with the database as of this read; what the poll found meanwhile follows it.
      for (const entry of subscriber.pending) {
        if (isAfter(entry.position, subscriber.last)) {
          subscriber.queue.push(entry)
          subscriber.last = entry.position
        }
      }
      subscriber.mode = "live"
    }
    subscriber.pending = undefined
  }

  /**
   * The entries of one user (optionally some accounts) after `after`, until the
   * signal aborts (then it returns), `until` passes (returns "expired") or the feed closes
   * ("closed"). Registered at once: throws LiveFeedFull when this process holds its limit.
   */
  const subscribe = (request: Subscription): AsyncGenerator<FeedEntry, LiveEnd | undefined> => {
    if (count >= options.maxSubscribers) throw new LiveFeedFull()
    const subscriber: Subscriber = {
      accountIds: request.accountIds,
      queue: [],
      last: request.after,
      // Level with the poll only once it has read its own entries after `after`.
      mode: "catchingUp",
      pending: undefined,
      wake: undefined,
    }
    const own = subscribers.get(request.userId) ?? new Set()
    subscribers.set(request.userId, own)
    own.add(subscriber)
    count++
    if (!polling) {
      polling = true
      timer = setTimeout(poll, 0)
    }
    const wakeUp = () => subscriber.wake?.()
    const expiry =
      request.until === undefined
        ? undefined
        : setTimeout(wakeUp, Math.max(0, request.until.getTime() - Date.now()))
    let left = false
    /** Unregisters, once: when the stream ends, or when the client leaves before reading it. */
    const leave = () => {
      if (left) return
      left = true
      clearTimeout(expiry)
      request.signal.removeEventListener("abort", onAbort)
      own.delete(subscriber)
      if (own.size === 0 && subscribers.get(request.userId) === own) {
        subscribers.delete(request.userId)
      }
      count--
    }
    const onAbort = () => {
      wakeUp()
      leave()
    }
    request.signal.addEventListener("abort", onAbort)
    if (request.signal.aborted) leave()
    const ended = (): LiveEnd | "left" | undefined =>
      left || request.signal.aborted
        ? "left"
        : closed
          ? "closed"
          : request.until !== undefined && Date.now() >= request.until.getTime()
            ? "expired"
            : undefined

    async function* stream(): AsyncGenerator<FeedEntry, LiveEnd | undefined> {
      try {
        for (;;) {
          const end = ended()
          if (end !== undefined) return end === "left" ? undefined : end
          const next = subscriber.queue.shift()
          if (next !== undefined) {
            yield next
            continue
          }
          if (subscriber.mode === "catchingUp") {
            try {
              await catchUp(request.userId, subscriber)
            } catch (error) {
              log.warn({ error: String(error) }, "live subscriber could not catch up")
              return "failed"
            }
            continue
          }
          await new Promise<void>((resolve) => {
            subscriber.wake = resolve
          })
          subscriber.wake = undefined
        }
      } finally {
        leave()
      }
    }
    return stream()
  }

  /** Reads the feed now (or right after the read under way), if anyone subscribes here. */
  const readSoon = () => {
    if (!polling || closed) return
    eagerUntil = performance.now() + Math.max(options.pollMs, eagerForMs)
    if (reading) {
      again = true
      return
    }
    clearTimeout(timer)
    timer = setTimeout(poll, 0)
  }

  return {
    subscribe,
    /**
     * This process has just written (a write answered): its subscribers need not wait for the
     * next poll, nor, once told (at most every 10 ms), the other processes'.
     */
    written: () => {
      readSoon()
      if (options.announce === undefined || announcing) return
      announcing = true
      setTimeout(() => {
        announcing = false
        options.announce?.()
      }, 10)
    },
    /** Another process has just written. */
    heard: readSoon,
    /** Subscriptions held now. */
    get size() {
      return count
    },
    /** Ends every subscription ("closed") and stops reading. */
    close: () => {
      closed = true
      clearTimeout(timer)
      for (const own of subscribers.values()) for (const subscriber of own) subscriber.wake?.()
    },
  }
}

export type LiveFeed = ReturnType<typeof makeLiveFeed>
