import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client"
import type { AppRouter } from "@txn/api/router"

export type { AppRouter }

export interface TxnClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:3000`; `/trpc` is added. */
  readonly url: string
  /** The API key every request is sent with, as `Authorization: Bearer <key>`. */
  readonly apiKey?: string
  /** Extra headers on every request; may be computed per request. */
  readonly headers?:
    | Record<string, string>
    | (() => Record<string, string> | Promise<Record<string, string>>)
  /** A fetch of your own (tests, proxies, older runtimes). */
  readonly fetch?: typeof globalThis.fetch
  /** Calls made in the same tick go out as one HTTP request. Default true. */
  readonly batch?: boolean
}

/** A tRPC client whose every procedure, input, output and error tag is typed from the API. */
export const createTxnClient = (options: TxnClientOptions) => {
  const url = `${options.url.replace(/\/+$/, "")}/trpc`
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url,
        maxItems: options.batch === false ? 1 : 20,
        // Queries go as POST: a batch of them as GET can outgrow the 16 KiB the server allows for
        // a URL with its headers, and the answer would then be an untagged 431.
        methodOverride: "POST",
        headers: async () => ({
          ...(typeof options.headers === "function" ? await options.headers() : options.headers),
          ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
        }),
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      }),
    ],
  })
}

export type TxnClient = ReturnType<typeof createTxnClient>

export type TxnClientError = TRPCClientError<AppRouter>

/** The error's tag (`NotFound`, `ValidationError`, ...), or undefined if it is not an API error. */
export const errorTag = (error: unknown) =>
  error instanceof TRPCClientError ? (error as TxnClientError).data?.tag : undefined

/** Narrows an unknown error to an API error with the given tag. */
export const isTxnError = <Tag extends NonNullable<ReturnType<typeof errorTag>>>(
  error: unknown,
  tag: Tag,
): error is TxnClientError => errorTag(error) === tag
