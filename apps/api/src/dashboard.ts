import { existsSync } from "node:fs"
import type { IncomingMessage, ServerResponse } from "node:http"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import serveStatic from "serve-static"

/** Where `npm run build -w @txn/web` puts the dashboard (apps/web/dist). */
export const builtDashboardDir = fileURLToPath(new URL("../../web/dist", import.meta.url))

/**
 * The page may load only its own scripts and styles and call only its own origin: no inline
 * script, no other site's code, no framing.
 */
const pageHeaders: Record<string, string> = {
  "cache-control": "no-cache",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
}

/** How a path under /app is answered when it is not there: the front's own 404. */
export type NotServed = (status: number) => void

/**
 * The built dashboard under /app, for a CDN to front: `/app/assets/*` (content-hashed names)
 * cached for a year as immutable, every other path under /app the one page (its screens are
 * routes of the page), never cached, so a new build shows at once. Undefined when `dir` holds
 * no build.
 */
export const makeDashboard = (dir: string) => {
  if (!existsSync(join(dir, "index.html"))) return undefined
  const assets = serveStatic(join(dir, "assets"), {
    immutable: true,
    maxAge: "1y",
    index: false,
    redirect: false,
    fallthrough: false,
  })
  const page = serveStatic(dir, {
    index: false,
    redirect: false,
    fallthrough: false,
    setHeaders: (response) => {
      for (const [name, value] of Object.entries(pageHeaders)) response.setHeader(name, value)
    },
  })
  return (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    notServed: NotServed,
  ) => {
    const query = (request.url ?? "").slice(path.length)
    const within = path.slice("/app".length)
    if (within === "") {
      response.writeHead(308, { location: `/app/${query}` })
      response.end()
      return
    }
    const failed = (error?: { status?: number }) => notServed(error?.status ?? 404)
    if (within.startsWith("/assets/")) {
      request.url = `${within.slice("/assets".length)}${query}`
      assets(request, response, failed)
    } else {
      request.url = "/index.html"
      page(request, response, failed)
    }
  }
}
