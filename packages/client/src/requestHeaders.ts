import type { TxnClientOptions } from "./createTxnClient.ts"

/** The `Authorization` and extra headers of a request, per the options. */
export const requestHeaders = async (
  options: Pick<TxnClientOptions, "apiKey" | "token" | "headers">,
): Promise<Record<string, string>> => {
  const extra = typeof options.headers === "function" ? await options.headers() : options.headers
  const token = typeof options.token === "function" ? await options.token() : options.token
  const bearer = options.apiKey ?? token
  return { ...extra, ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }) }
}
