import { randomUUID } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http"
import type { Duplex } from "node:stream"
import { resolveResponse } from "@trpc/server/http"
import { Unavailable, ValidationError } from "@txn/domain"
import * as FindMyWay from "effect/http/FindMyWay"
import * as HttpMethod from "effect/http/HttpMethod"
import { admit, type Door, sendRefusal, trpcCallsOf } from "./admission.ts"
import { abortedWith, setAnswerHead, streamAnswer, writeAnswer } from "./answer.ts"
import { clientAddressOf } from "./clientAddress.ts"
import type { AppContext } from "./context.ts"
import { makeCors } from "./cors.ts"
import { makeDashboard } from "./dashboard.ts"
import { type Deadline, deadlineIn, promiseBeforeDeadline } from "./deadline.ts"
import { unavailableRetryAfterSeconds } from "./errorTable.ts"
import { downloadExport, exportDownloadPath } from "./exportDownload.ts"
import { liveChangesPath, serveLiveChanges } from "./liveSse.ts"
import { type ApiMetricsOptions, makeApiMetrics } from "./metrics.ts"
import { restDoor } from "./rest/errors.ts"
import { makeDocs, makeRest, openApiDocument } from "./rest/serve.ts"
import { appRouter } from "./router.ts"
import { requestRefusal } from "./trpc.ts"

const trpcDoor: Door = { calls: trpcCallsOf, refusal: requestRefusal, queryField: "input" }

/** A REST body must say it is JSON: curl's `-d` alone sends a form type, which would not parse. */
const jsonContentType = /^application\/json\s*(;|$)/i

export interface ServerOptions {
  readonly maxBodyBytes: number
  /** Calls one batched tRPC request may carry (TXN_MAX_BATCH_CALLS). */
  readonly maxBatchCalls: number
  readonly requestTimeoutMs: number
  /**
   * Resolves when PostgreSQL and the queue answer; rejects with what is down. Answered
   * Unavailable at `deadline` whatever it is still waiting for.
   */
  readonly checkReadiness: (deadline: Deadline) => Promise<void>
  /** Browser origins whose pages may call the API (TXN_CORS_ORIGINS); none when empty. */
  readonly corsOrigins: ReadonlyArray<string>
  /** The built dashboard served under /app (apps/web/dist); /app answers 404 without one. */
  readonly dashboardDir?: string | undefined
  /**
   * Proxies whose `X-Forwarded-For` names the client (TXN_TRUSTED_PROXIES); none when empty or
   * unset, and the header is ignored.
   */
  readonly trustedProxies?: ReadonlyArray<string> | undefined
  /** This process's database connections by state, for `/metrics`; left out when not given. */
  readonly databaseConnections?: ApiMetricsOptions["databaseConnections"]
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

const noRoute = (request: IncomingMessage, requestId: string) => {
  const url = request.url ?? "/"
  const path = url.includes("?") ? url.slice(0, url.indexOf("?")) : url
  return {
    error: {
      tag: "NotFound",
      message: `No route ${request.method} ${loggedPath(path)}`,
      requestId,
    },
  }
}

/**
 * A path as the request log shows it: up to 200 characters, so a 14 KB URL of batched calls does
 * not write 14 KB of log per request.
 */
const loggedPath = (path: string) =>
  path.length > 200 ? `${path.slice(0, 200)}... (${path.length} characters)` : path

/**
 * One HTTP front for every door: tRPC under /trpc, REST under /v1 (export downloads included),
 * its document at /openapi.json and reference at /docs, health at /healthz and /readyz. Request
 * ids, the access log, CORS and timeouts hold for all of them; authentication, the rate limit,
 * body limits and UTF-8 checks for tRPC, REST and downloads alike (admission.ts). Paths are routed
 * by Effect's find-my-way router, the one HttpApi's routes use inside /v1.
 */
export const createApiServer = (app: AppContext, options: ServerOptions) => {
  const cors = makeCors(options.corsOrigins)
  const responseMeta = ({ errors }: { errors: ReadonlyArray<{ code: string }> }) =>
    errors.some((error) => error.code === "SERVICE_UNAVAILABLE")
      ? { headers: { "retry-after": String(unavailableRetryAfterSeconds) } }
      : {}
  /**
   * tRPC's own resolution (`resolveResponse`) behind the front door: the Fetch request it reads
   * is made from the admitted request (its body already read and checked), and its answer, a JSON
   * body tRPC has already serialized, is written in one piece. tRPC's Node adapter would copy the
   * headers one by one and pipe the body through web streams on every request.
   */
  const serveTrpc = async (
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ) => {
    const admission = await admit(app, options, trpcDoor, request, response, requestId)
    if (admission === undefined) return
    const url = new URL(request.url ?? "/", "http://api")
    const signal = abortedWith(response)
    const answer = await resolveResponse({
      router: appRouter,
      req: new Request(url, {
        method: request.method ?? "GET",
        headers: request.headers as Record<string, string>,
        signal,
        ...(admission.body === undefined ? {} : { body: admission.body }),
      }),
      // As tRPC's adapters pass it: still percent-encoded (tRPC decodes it), no slash at the end.
      path: url.pathname.slice("/trpc/".length).replace(/\/$/, ""),
      error: null,
      // Queries whose input is too long for a URL may be sent as POST (the client's methodOverride).
      allowMethodOverride: true,
      createContext: async () => ({
        ...app,
        requestId,
        deadline: admission.deadline,
        caller: admission.caller,
        budget: admission.budget,
        clientAddress: clientAddressOf(request, options.trustedProxies ?? []),
        response,
        signal,
      }),
      responseMeta,
    })
    if (answer.headers.get("content-type")?.startsWith("text/event-stream") === true) {
      await streamAnswer(response, answer)
      return
    }
    writeAnswer(
      response,
      response.statusCode === 200 ? answer.status : response.statusCode,
      answer.headers,
      answer.body === null ? undefined : await answer.arrayBuffer(),
    )
  }

  const rest = makeRest(app)
  const openApi = openApiDocument()
  const openApiJson = JSON.stringify(openApi)
  const metrics = makeApiMetrics({
    procedures: Object.keys(appRouter._def.procedures),
    restPaths: Object.keys(openApi.paths),
    databaseConnections: options.databaseConnections,
  })
  const docs = makeDocs()
  /**
   * REST under /v1 behind the same front door as tRPC: admitted (authenticated, counted, body
   * read), then answered by the HttpApi routes with the request's scope.
   */
  const serveRest = async (
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ) => {
    const admission = await admit(app, options, restDoor, request, response, requestId)
    if (admission === undefined) return
    if (
      admission.body !== undefined &&
      admission.body !== "" &&
      !jsonContentType.test(request.headers["content-type"] ?? "")
    ) {
      sendRefusal(
        response,
        restDoor,
        ValidationError.fromIssues([
          {
            path: ["content-type"],
            message: "Send the body as JSON, with content-type: application/json",
          },
        ]),
        requestId,
      )
      return
    }
    const method = request.method ?? "GET"
    if (!HttpMethod.isHttpMethod(method)) {
      sendJson(response, 404, noRoute(request, requestId))
      return
    }
    const { answer, abandon } = (await rest).serve(
      {
        method,
        url: request.url ?? "/",
        // An operation whose body has only optional fields may be sent without one.
        headers:
          admission.body === ""
            ? { ...request.headers, "content-type": "application/json" }
            : request.headers,
        body: admission.body === "" ? "{}" : admission.body,
      },
      {
        requestId,
        deadline: admission.deadline,
        caller: admission.caller,
        log: app.log,
        adminApi: app.adminToken !== undefined,
      },
    )
    const left = () => {
      if (!response.writableFinished) abandon()
    }
    response.once("close", left)
    const answered = await answer
    response.off("close", left)
    if (answered.status === 404 && answered.body === undefined) {
      // No operation has this method and path: the router's bare 404, answered like the others.
      sendJson(response, 404, noRoute(request, requestId))
      return
    }
    setAnswerHead(response, answered.status, Object.entries(answered.headers))
    response.end(answered.body)
  }

  // Slow or stalled clients are cut off rather than holding sockets forever: headers must arrive
  // within the timeout (60 s at most) and the whole request within it, counted from its first
  // byte. Node checks both on an interval, 30 s by default, which would let a client trickle on
  // for up to 30 s past the limit; once a second keeps the limit true to within a second.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (request, response) => {
    const started = performance.now()
    const requestId = requestIdOf(request)
    response.setHeader("x-request-id", requestId)
    const url = request.url ?? "/"
    const path = url.includes("?") ? url.slice(0, url.indexOf("?")) : url
    // Logged when the answer is written or the client has gone, whichever comes first.
    response.once("close", () => {
      const finished = response.writableFinished
      // A write answered: live subscribers hear of it now, here and on the other processes.
      if (
        finished &&
        response.statusCode < 400 &&
        request.method !== "GET" &&
        request.method !== "HEAD" &&
        request.method !== "OPTIONS" &&
        (path.startsWith("/trpc/") || path.startsWith("/v1/"))
      ) {
        app.live.written()
      }
      // 499, as proxies log it, when the client went away before any answer.
      const status = finished || response.headersSent ? response.statusCode : 499
      const seconds = (performance.now() - started) / 1000
      metrics.observe(path, status, seconds, requestId)
      app.log.info(
        {
          requestId,
          method: request.method,
          path: loggedPath(path),
          status,
          ...(finished ? {} : { clientLeft: true }),
          durationMs: Math.round(seconds * 10_000) / 10,
        },
        "request",
      )
    })

    cors(request, response, () => route(request, response, requestId, path))
  })
  /** A request that failed before its door could answer: 503 in the door's shape, or cut off. */
  const failed =
    (response: ServerResponse, requestId: string, door: Door, what: string) => (error: unknown) => {
      app.log.error({ requestId, error: String(error) }, what)
      if (!response.headersSent) {
        sendRefusal(response, door, new Unavailable({ message: "Try again shortly" }), requestId)
      } else response.destroy()
    }

  type Route = (
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
    path: string,
  ) => void
  /** Every path the API answers; the rest answer 404 NotFound. */
  const routes = FindMyWay.make<Route>()
  routes.all("/healthz", (_request, response) => sendJson(response, 200, { status: "ok" }))
  routes.all("/readyz", (_request, response, requestId) => {
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
  })
  routes.all("/trpc/*", (request, response, requestId) => {
    serveTrpc(request, response, requestId).catch(
      failed(response, requestId, trpcDoor, "request admission failed"),
    )
  })
  routes.on(["GET", "HEAD"], "/metrics", (_request, response, requestId) => {
    metrics.scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { "content-type": contentType, "cache-control": "no-store" })
        response.end(body)
      },
      failed(response, requestId, restDoor, "metrics failed"),
    )
  })
  routes.all("/openapi.json", (_request, response) => {
    response.writeHead(200, { "content-type": "application/json" })
    response.end(openApiJson)
  })
  routes.on(["GET", "HEAD"], "/docs", (request, response, requestId) => {
    docs(new Request(new URL(request.url ?? "/", "http://api"))).then(
      async (answer) =>
        writeAnswer(response, answer.status, answer.headers, await answer.arrayBuffer()),
      failed(response, requestId, restDoor, "docs failed"),
    )
  })
  const dashboard =
    options.dashboardDir === undefined ? undefined : makeDashboard(options.dashboardDir)
  const serveDashboard: Route = (request, response, requestId, path) => {
    const notServed = (status: number) =>
      sendJson(response, status, {
        error: {
          tag: status === 405 ? "MethodNotAllowed" : "NotFound",
          message:
            dashboard === undefined
              ? "The dashboard is not built: run npm run build -w @txn/web (npm start does)"
              : `No file ${loggedPath(path)}`,
          requestId,
        },
      })
    if (dashboard === undefined) notServed(404)
    else dashboard(request, response, path, notServed)
  }
  routes.on(["GET", "HEAD"], "/app", serveDashboard)
  routes.on(["GET", "HEAD"], "/app/*", serveDashboard)
  routes.all("/v1/*", (request, response, requestId, path) => {
    // Live changes and downloads stream rather than answer JSON. A download's id is taken as sent
    // (the download decodes and checks it, answering a malformed one 400 naming `id`).
    if (path === liveChangesPath) {
      serveLiveChanges(app, options, request, response, requestId).catch(
        failed(response, requestId, restDoor, "live stream failed"),
      )
      return
    }
    const download = exportDownloadPath.exec(path)
    if (download !== null) {
      downloadExport(app, options, request, response, requestId, download[1] ?? "").catch(
        failed(response, requestId, restDoor, "export download failed"),
      )
      return
    }
    serveRest(request, response, requestId).catch(
      failed(response, requestId, restDoor, "request admission failed"),
    )
  })
  const route: Route = (request, response, requestId, path) => {
    // Routed on the path as sent: every `%` kept literal, so a malformed escape still finds its
    // route (which answers it 400) instead of failing the router's own decoding.
    const found = routes.find(request.method ?? "GET", path.replaceAll("%", "%25"))
    if (found === undefined) sendJson(response, 404, noRoute(request, requestId))
    else found.handler(request, response, requestId, path)
  }
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(error, socket),
  )
  server.requestTimeout = options.requestTimeoutMs
  server.headersTimeout = Math.min(options.requestTimeoutMs, 60_000)
  return server
}
