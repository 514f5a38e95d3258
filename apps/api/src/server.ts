import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { createHTTPHandler } from "@trpc/server/adapters/standalone"
import type { AppContext } from "./context.ts"
import { authenticate } from "./context.ts"
import { appRouter } from "./router.ts"

export interface ServerOptions {
  readonly maxBodyBytes: number
  readonly requestTimeoutMs: number
  /** Resolves when PostgreSQL and the queue answer; rejects with what is down. */
  readonly checkReadiness: () => Promise<void>
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,100}$/

const requestIdOf = (request: IncomingMessage): string => {
  const given = request.headers["x-request-id"]
  return typeof given === "string" && requestIdPattern.test(given) ? given : randomUUID()
}

const sendJson = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

/** One HTTP server: tRPC under /trpc, health under /healthz and /readyz. */
export const createApiServer = (app: AppContext, options: ServerOptions) => {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: options.maxBodyBytes,
    createContext: ({ req, res }) => ({
      ...app,
      requestId: res.getHeader("x-request-id") as string,
      caller: authenticate(app, req),
    }),
  })

  const server = createServer((request, response) => {
    const started = performance.now()
    const requestId = requestIdOf(request)
    response.setHeader("x-request-id", requestId)
    const path = (request.url ?? "/").split("?")[0] ?? "/"
    response.once("finish", () => {
      app.log.info(
        {
          requestId,
          method: request.method,
          path,
          status: response.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        },
        "request",
      )
    })

    if (path === "/healthz") return sendJson(response, 200, { status: "ok" })
    if (path === "/readyz") {
      options.checkReadiness().then(
        () => sendJson(response, 200, { status: "ready" }),
        (error: unknown) => {
          app.log.warn({ requestId, reason: String(error) }, "not ready")
          sendJson(response, 503, { status: "unavailable", tag: "Unavailable" })
        },
      )
      return
    }
    if (path.startsWith("/trpc/")) return trpc(request, response)
    sendJson(response, 404, {
      error: { tag: "NotFound", message: `No route ${request.method} ${path}`, requestId },
    })
  })
  // Slow or stalled clients are cut off rather than holding sockets forever.
  server.requestTimeout = options.requestTimeoutMs
  server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000)
  return server
}
