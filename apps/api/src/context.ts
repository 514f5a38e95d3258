import type { IncomingMessage } from "node:http"
import type { Accounts, Transactions, UserId } from "@txn/domain"
import type { Log } from "@txn/platform"
import type { ManagedRuntime } from "effect"

export type AppServices = Accounts | Transactions

/** Built once at start-up and shared by every request. */
export interface AppContext {
  readonly runtime: ManagedRuntime.ManagedRuntime<AppServices, never>
  readonly log: Log
  /** The user every request acts as until API keys exist. */
  readonly devUserId: UserId
}

export type Scope = "read" | "write"

export interface Caller {
  readonly userId: UserId
  readonly scopes: ReadonlyArray<Scope>
}

/** What one request adds: who is calling, and the id that ties its logs together. */
export interface RequestContext extends AppContext {
  readonly requestId: string
  readonly caller: Caller
}

/** The one place a request becomes a caller: API keys plug in here. */
export const authenticate = (app: AppContext, _request: IncomingMessage): Caller => ({
  userId: app.devUserId,
  scopes: ["read", "write"],
})
