import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { Forbidden, NotFound } from "./Errors.ts"
import type { AccountId } from "./Ids.ts"

/**
 * What the caller's credential reaches beyond its scopes, as the request layer provides it for
 * every use case through either door (tRPC and REST): a secret API key reaches everything of its
 * user; a client token nothing of the admin kind (keys, webhooks, tokens), and with `accountIds`
 * only those accounts and their transactions. Unprovided (the worker, the CLI), everything.
 */
export interface Grant {
  readonly via: "key" | "token"
  /** The only accounts reached; null for all of the user's. */
  readonly accountIds: ReadonlyArray<AccountId> | null
}

export const Grant = Context.Reference<Grant>("@txn/domain/Grant", {
  defaultValue: () => ({ via: "key", accountIds: null }),
})

/** Whether the grant reaches this account (an account outside it is as unknown as another user's). */
export const reaches = (grant: Grant, accountId: string) =>
  grant.accountIds === null || (grant.accountIds as ReadonlyArray<string>).includes(accountId)

/**
 * Fails NotFound for the first of these accounts the caller's grant does not reach, exactly as
 * for another user's account, so a limited token learns nothing of the others.
 */
export const ensureReached = Effect.fn("Grant.ensureReached")(function* (
  ...accountIds: ReadonlyArray<string>
) {
  const grant = yield* Grant
  for (const id of accountIds) {
    if (!reaches(grant, id)) return yield* NotFound.of("account", id)
  }
})

/** Refuses a client token what only a secret API key may do (`what`: "manage webhooks"). */
export const ensureSecretKey = Effect.fn("Grant.ensureSecretKey")(function* (what: string) {
  const grant = yield* Grant
  if (grant.via === "token") {
    return yield* new Forbidden({
      message: `A client token cannot ${what}; use a secret API key from your server`,
      requiredScope: "apiKey",
    })
  }
})

/** Refuses a token limited to some accounts what would reach beyond them (`what`: "open accounts"). */
export const ensureAllAccounts = Effect.fn("Grant.ensureAllAccounts")(function* (what: string) {
  const grant = yield* Grant
  if (grant.accountIds !== null) {
    return yield* new Forbidden({
      message: `A client token limited to some accounts cannot ${what}`,
      requiredScope: "allAccounts",
    })
  }
})
