const tags = {
  429: ["RateLimited", "TOO_MANY_REQUESTS", -32029],
  503: ["Unavailable", "SERVICE_UNAVAILABLE", -32603],
} as const

/**
 * A fetch that turns a 429 or 503 without a JSON body (a proxy's or a load balancer's page) into
 * the error the API itself would send, `RateLimited` or `Unavailable`, headers kept: callers get
 * a tagged error, and the retry link sees the status and its `Retry-After`.
 */
export const tagRefusals =
  (fetch: typeof globalThis.fetch): typeof globalThis.fetch =>
  async (input, init) => {
    const response = await fetch(input, init)
    const tag = tags[response.status as keyof typeof tags]
    if (tag === undefined || response.headers.get("content-type")?.includes("json") === true) {
      return response
    }
    await response.body?.cancel()
    const [name, code, number] = tag
    const headers = new Headers(response.headers)
    headers.set("content-type", "application/json")
    const body = {
      error: {
        message: `HTTP ${response.status} ${response.statusText}`.trim(),
        code: number,
        data: { code, httpStatus: response.status, tag: name },
      },
    }
    return new Response(JSON.stringify(body), { status: response.status, headers })
  }
