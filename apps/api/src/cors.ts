import type { IncomingMessage, ServerResponse } from "node:http"
import cors from "cors"

/** Answer headers a page on another origin may read, besides the ones every browser shows. */
export const exposedHeaders = [
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
  "Retry-After",
  "Idempotent-Replayed",
  "ETag",
  "Location",
  "x-request-id",
] as const

/** How long a browser may reuse a preflight's answer before asking again. */
export const preflightMaxAgeSeconds = 600

/**
 * Whether `origin` (an `Origin` header) is one of `allowed`: equal to an entry, or of an entry's
 * scheme and host where that entry says `:*` (any port).
 */
export const makeOriginCheck = (allowed: ReadonlyArray<string>) => {
  const exact = new Set(allowed.filter((entry) => !entry.endsWith(":*")))
  const anyPort = new Set(allowed.filter((entry) => entry.endsWith(":*")))
  return (origin: string): boolean => {
    if (exact.has(origin)) return true
    if (anyPort.size === 0 || !URL.canParse(origin)) return false
    const url = new URL(origin)
    return url.origin === origin && anyPort.has(`${url.protocol}//${url.hostname}:*`)
  }
}

/**
 * CORS for every path, before anything else runs: a preflight (OPTIONS) is answered here, 204
 * with what the page may send, and other requests go on with `Access-Control-Allow-Origin` set
 * when their origin is allowed, so refusals (401, 413, 429, ...) are readable by the page too.
 * The API authenticates by the Authorization header, never by cookies: no credentials mode.
 */
export const makeCors = (allowedOrigins: ReadonlyArray<string>) => {
  const allowed = makeOriginCheck(allowedOrigins)
  const middleware = cors({
    // Reflects the request's origin: only allowed ones get this far.
    origin: true,
    methods: ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"],
    exposedHeaders: [...exposedHeaders],
    maxAge: preflightMaxAgeSeconds,
  })
  return (request: IncomingMessage, response: ServerResponse, next: () => void) => {
    // Every answer depends on the origin: a cache must not hand one to another origin.
    response.setHeader("vary", "Origin")
    const origin = request.headers.origin
    if (origin !== undefined && allowed(origin)) {
      middleware(request, response, () => next())
      return
    }
    if (request.method === "OPTIONS") {
      // A preflight from an origin not allowed: answered, with nothing that lets the page on.
      response.writeHead(204, { "content-length": "0" })
      response.end()
      return
    }
    next()
  }
}
