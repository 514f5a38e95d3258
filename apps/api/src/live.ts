import {
  Accounts,
  ChangeFeed,
  type DomainError,
  decodeChangesCursor,
  encodeChangesCursor,
  type FeedEntry,
  type LiveChange,
  type LiveChanges,
  Unauthorized,
  Unavailable,
} from "@txn/domain"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type { AppContext, Caller } from "./context.ts"
import { type LiveEnd, LiveFeedFull } from "./liveFeed.ts"
import { type RequestScope, withinRequest } from "./withinRequest.ts"

/** One live event: its id (what a client resumes after) and the change. */
export interface LiveEvent {
  readonly id: string
  readonly change: LiveChange
}

/** Why a stream ended, as the error a client is told, or undefined when it just ends. */
export const endRefusal = (end: LiveEnd | undefined): DomainError | undefined =>
  end === "expired"
    ? new Unauthorized({ message: "The client token expired; fetch a fresh one and resume" })
    : end === "closed"
      ? new Unavailable({ message: "The server is restarting; resume with the last event id" })
      : end === "failed"
        ? new Unavailable({
            message: "Live changes cannot be read right now; resume with the last event id",
          })
        : undefined

/**
 * Opens a live stream of the caller's transaction changes (one account's, if asked), from now or
 * after `lastEventId`, for either door: the account is checked as any read checks it, and a
 * client token's stream sees only its accounts and ends when the token expires. Refused with a
 * domain error, or the events until the client leaves (`signal`), the token expires or the
 * server closes.
 */
export const openLive = async (
  app: AppContext,
  request: RequestScope & { readonly caller: Extract<Caller, { readonly kind: "user" }> },
  input: LiveChanges,
  signal: AbortSignal,
): Promise<
  | { readonly refused: DomainError }
  | { readonly events: AsyncGenerator<LiveEvent, LiveEnd | undefined> }
> => {
  const { caller } = request
  const { accountId, lastEventId } = input
  // The account is checked as any read checks it. From now means after the feed's head, read
  // before the stream opens, so every change settled after the client is told it is connected
  // reaches it.
  const exit = await app.runtime.runPromiseExit(
    withinRequest(request)(
      Effect.gen(function* () {
        if (accountId !== undefined) {
          yield* Accounts.use((accounts) => accounts.get(caller.userId, { id: accountId }))
        }
        return lastEventId === undefined || lastEventId === null
          ? yield* ChangeFeed.use((feed) => feed.head)
          : decodeChangesCursor(lastEventId)
      }),
    ),
  )
  if (Exit.isFailure(exit)) {
    const failure = Cause.findErrorOption(exit.cause)
    if (Option.isSome(failure)) return { refused: failure.value }
    throw Cause.squash(exit.cause)
  }
  const after = exit.value
  const accountIds = accountId !== undefined ? [accountId] : (caller.accountIds ?? undefined)
  let entries: AsyncGenerator<FeedEntry, LiveEnd | undefined>
  try {
    entries = app.live.subscribe({
      userId: caller.userId,
      accountIds,
      after,
      signal,
      until: caller.expiresAt === null ? undefined : new Date(caller.expiresAt),
    })
  } catch (error) {
    if (!(error instanceof LiveFeedFull)) throw error
    return {
      refused: new Unavailable({ message: "This server holds all the live streams it can" }),
    }
  }
  async function* events(): AsyncGenerator<LiveEvent, LiveEnd | undefined> {
    for (;;) {
      const next = await entries.next()
      if (next.done === true) return next.value
      yield { id: encodeChangesCursor(next.value.position), change: next.value.change }
    }
  }
  return { events: events() }
}
