import { Actor, Grant, Unavailable } from "@txn/domain"
import * as Effect from "effect/Effect"
import type { Caller } from "./context.ts"
import { beforeDeadline, type Deadline } from "./deadline.ts"

/** What a use case needs to know of the request that runs it, through either door. */
export interface RequestScope {
  readonly requestId: string
  readonly deadline: Deadline
  readonly caller: Caller
}

/**
 * What the caller's credential reaches, for the use cases to enforce (see `Grant`): the one home
 * of a client token's limits, whichever door the request came through.
 */
export const grantOf = (caller: Caller): Grant =>
  caller.kind === "user"
    ? { via: caller.via, accountIds: caller.accountIds }
    : { via: "key", accountIds: null }

/**
 * A use case as one request runs it, tRPC's or REST's: answered Unavailable once the request's
 * deadline passes, its changes authored by the caller's key, within what the caller's credential
 * reaches, its logs tagged with the request id and user.
 */
export const withinRequest =
  (scope: RequestScope) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | Unavailable, R> =>
    effect.pipe(
      beforeDeadline(scope.deadline, () =>
        Effect.fail(new Unavailable({ message: "The request took too long; try again" })),
      ),
      // Recorded as the author of every change this call makes.
      Effect.provideService(
        Actor,
        scope.caller.kind === "user" ? scope.caller.keyId : scope.caller.kind,
      ),
      Effect.provideService(Grant, grantOf(scope.caller)),
      Effect.annotateLogs({
        requestId: scope.requestId,
        ...(scope.caller.kind === "user" ? { userId: scope.caller.userId } : {}),
      }),
      // The request's span when tracing is on: its id, as in the logs and `x-request-id`.
      Effect.withSpan("txn.request", {
        kind: "server",
        attributes: {
          "txn.request_id": scope.requestId,
          ...(scope.caller.kind === "user" ? { "txn.user_id": scope.caller.userId } : {}),
        },
      }),
    )
