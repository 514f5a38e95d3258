import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http"
import type { Duplex } from "node:stream"
import { createHTTPHandler } from "@trpc/server/adapters/standalone"
import type { AppContext } from "./context.ts"
import { authenticate } from "./context.ts"
import { type Deadline, deadlineIn, promiseBeforeDeadline } from "./deadline.ts"
import { unavailableRetryAfterSeconds } from "./errorTable.ts"
import { downloadExport, exportDownloadPath } from "./exportDownload.ts"
import { appRouter } from "./router.ts"

export interface ServerOptions {
  readonly maxBodyBytes: number
  readonly requestTimeoutMs: number
  /**
   * Resolves when PostgreSQL and the queue answer; rejects with what is down. Answered
   * Unavailable at `deadline` whatever it is still waiting for.
   */
  readonly checkReadiness: (deadline: Deadline) => Promise<void>
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,100}$/

const requestIdOf = (request: IncomingMessage): string => {
  const given = request.headers["x-request-id"]
  return typeof given === "string" && requestIdPattern.test(given) ? given : randomUUID()
}

const sendJson = (response: ServerResponse, status: number, body: unknown) => {
  if (status === 503) response.setHeader("retry-after", unavailableRetryAfterSeconds)
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

/** A readiness probe answers within 2 s, or the request timeout if that is shorter. */
const readinessTimeoutMs = 2000

/**
 * Requests Node's HTTP parser rejects before they reach a handler (URL or headers over 16 KiB,
 * broken HTTP, too slow) still get a JSON error with a tag, like every other answer.
 */
const answerClientError = (error: NodeJS.ErrnoException, socket: Duplex) => {
  if (!socket.writable || error.code === "ECONNRESET") {
    socket.destroy()
    return
  }
  const [status, tag, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [
          431,
          "PayloadTooLarge",
          "The URL and headers exceed 16 KiB; send large inputs in a POST body",
        ]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Unavailable", "The request was not received in time"]
        : [400, "ValidationError", "Malformed HTTP request"]
  const body = JSON.stringify({ error: { tag, message } })
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  )
}

/**
 * One HTTP server: tRPC under /trpc, export downloads under /v1/exports, health under /healthz
 * and /readyz.
 */
export const createApiServer = (app: AppContext, options: ServerOptions) => {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    maxBodySize: options.maxBodyBytes,
    // Queries whose input is too long for a URL may be sent as POST (the client's methodOverride).
    allowMethodOverride: true,
    createContext: async ({ req, res }) => {
      const requestId = res.getHeader("x-request-id") as string
      const deadline = deadlineIn(app.requestTimeoutMs)
      return {
        ...app,
        requestId,
        deadline,
        caller: await authenticate(app, req, requestId, deadline),
        clientAddress: req.socket.remoteAddress ?? "unknown",
        response: res,
      }
    },
    responseMeta: ({ errors }) =>
      errors.some((error) => error.code === "SERVICE_UNAVAILABLE")
        ? { headers: { "retry-after": String(unavailableRetryAfterSeconds) } }
        : {},
  })

  // Slow or stalled clients are cut off rather than holding sockets forever: headers must arrive
  // within the timeout (60 s at most) and the whole request within it, counted from its first
  // byte. Node checks both on an interval, 30 s by default, which would let a client trickle on
  // for up to 30 s past the limit; once a second keeps the limit true to within a second.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (request, response) => {
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
      const deadline = deadlineIn(Math.min(readinessTimeoutMs, options.requestTimeoutMs))
      promiseBeforeDeadline(
        deadline,
        options.checkReadiness(deadline),
        () => new Error("the readiness check timed out"),
      ).then(
        () => sendJson(response, 200, { status: "ready" }),
        (error: unknown) => {
          app.log.warn({ requestId, reason: String(error) }, "not ready")
          sendJson(response, 503, { status: "unavailable", tag: "Unavailable" })
        },
      )
      return
    }
    if (path.startsWith("/trpc/")) return trpc(request, response)
    const download = exportDownloadPath.exec(path)
    if (download !== null) {
      downloadExport(app, request, response, requestId, download[1] ?? "").catch(
        (error: unknown) => {
          app.log.error({ requestId, error: String(error) }, "export download failed")
          if (!response.headersSent) {
            sendJson(response, 503, {
              error: { tag: "Unavailable", message: "Try again shortly", requestId },
            })
          } else response.destroy()
        },
      )
      return
    }
    sendJson(response, 404, {
      error: { tag: "NotFound", message: `No route ${request.method} ${path}`, requestId },
    })
  })
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(error, socket),
  )
  server.requestTimeout = options.requestTimeoutMs
  server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000)
  return server
}
