import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCLink,
} from "@trpc/client"
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server"
import { EventSource } from "eventsource"
import type { AppRouter } from "./generated/AppRouter.ts"
import { idempotencyKeyLink } from "./idempotencyKeyLink.ts"
import { requestHeaders } from "./requestHeaders.ts"
import { type RetryOptions, retryLink } from "./retryLink.ts"
import { tagRefusals } from "./tagRefusals.ts"

export type { AppRouter }

/** Every procedure's input, by path: `RouterInputs["transactions"]["create"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>
/** Every procedure's output as the client receives it: `RouterOutputs["transactions"]["get"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>

/** A bearer token, or a function giving one (called before every HTTP request). */
export type TokenSource = string | (() => string | Promise<string>)

export interface TxnClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:3000`; `/trpc` is added. */
  readonly url: string
  /** A secret API key, sent as `Authorization: Bearer <key>`. For servers, never browsers. */
  readonly apiKey?: string
  /**
   * A client token minted by your server (`tokens.create`), sent as `Authorization: Bearer`;
   * or a function that returns one, called before every HTTP request, so it can fetch a fresh
   * token when the last one expires (keep it in a variable until then: the client does not
   * cache). Give either `apiKey` or `token`.
   */
  readonly token?: TokenSource
  /** Extra headers on every request; may be computed per request. */
  readonly headers?:
    | Record<string, string>
    | (() => Record<string, string> | Promise<Record<string, string>>)
  /** A fetch of your own (tests, proxies, older runtimes). */
  readonly fetch?: typeof globalThis.fetch
  /** Calls made in the same tick go out as one HTTP request. Default true. */
  readonly batch?: boolean
  /**
   * Tries again after network failures and 429/503 answers (waiting as `Retry-After` says):
   * queries, and creates that carry an idempotency key; never other mutations. `false` turns
   * it off. Default: up to 3 retries.
   */
  readonly retry?: RetryOptions | false
  /**
   * Gives each create sent without an `idempotencyKey` a random one, so a create cut off by the
   * network can be retried without recording it twice. Default true.
   */
  readonly idempotencyKeys?: boolean
}

/**
 * A tRPC client whose every procedure, input, output and error tag is typed from the API. Each
 * call takes an `AbortSignal` (`query(input, { signal })`, `mutate(input, { signal })`): aborting
 * cancels the request and any retry still to come.
 */
export const createTxnClient = (options: TxnClientOptions) => {
  if (options.apiKey !== undefined && options.token !== undefined) {
    throw new TypeError("Give createTxnClient either apiKey or token, not both")
  }
  const url = `${options.url.replace(/\/+$/, "")}/trpc`
  // Queries and mutations, in order. Subscriptions can branch off before these with splitLink.
  const links: Array<TRPCLink<AppRouter>> = [
    ...(options.idempotencyKeys === false ? [] : [idempotencyKeyLink()]),
    ...(options.retry === false ? [] : [retryLink(options.retry)]),
    httpBatchLink({
      url,
      maxItems: options.batch === false ? 1 : 20,
      // Queries go as POST: a batch of them as GET can outgrow the 16 KiB the server allows for
      // a URL with its headers, and the answer would then be an untagged 431.
      methodOverride: "POST",
      headers: () => requestHeaders(options),
      fetch: tagRefusals(options.fetch ?? ((input, init) => globalThis.fetch(input, init))),
    }),
  ]
  const fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  // Live changes (`transactions.live.subscribe`) over SSE, through an EventSource that sends the
  // same Authorization header as every other call (a browser's own EventSource cannot), fetched
  // afresh on every reconnection so a token function can hand out a new token. tRPC resumes
  // after the last event id by itself when the connection drops.
  const live: TRPCLink<AppRouter> = httpSubscriptionLink({
    url,
    EventSource,
    eventSourceOptions: async () => ({
      fetch: async (input: string | URL, init?: RequestInit) =>
        fetcher(input, {
          ...init,
          headers: {
            ...(init?.headers as Record<string, string>),
            ...(await requestHeaders(options)),
          },
        }),
    }),
  })
  return createTRPCClient<AppRouter>({
    links: [splitLink({ condition: (op) => op.type === "subscription", true: live, false: links })],
  })
}

export type TxnClient = ReturnType<typeof createTxnClient>
