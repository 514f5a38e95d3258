import type { IncomingMessage, ServerResponse } from "node:http"
import { LiveChanges, ValidationError } from "@txn/domain"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { type AdmissionOptions, admit } from "./admission.ts"
import type { AppContext } from "./context.ts"
import { endRefusal, openLive } from "./live.ts"
import { errorBody, restDoor } from "./rest/errors.ts"
import { readingUser, sendRestError } from "./restStream.ts"

/** `/v1/transactions/live`: the REST door's stream of live changes. */
export const liveChangesPath = "/v1/transactions/live"

/** A comment line every 10 s keeps proxies from closing a quiet stream. */
const pingIntervalMs = 10_000

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()
const decodeInput = Schema.decodeUnknownResult(LiveChanges)

/**
 * `GET /v1/transactions/live[?accountId=]`: the caller's transaction changes as server-sent
 * events, `id:` each event's id and `data:` the change as JSON. A client that reconnects sends the
 * last id it got as `Last-Event-ID` (EventSource does) or `lastEventId`, and gets every change
 * after it exactly once, in order. A client token's stream ends with an `error` event when the
 * token expires. Admitted by the front door first, as every REST operation is.
 */
export const serveLiveChanges = async (
  app: AppContext,
  options: AdmissionOptions,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
) => {
  const admission = await admit(app, options, restDoor, request, response, requestId)
  if (admission === undefined) return
  const caller = readingUser(admission.caller, request.method, response, "Live streams")
  if (!("kind" in caller)) return sendRestError(response, requestId, caller)

  const query = new URL(request.url ?? "/", "http://api").searchParams
  const raw: Record<string, string> = {}
  const issues: Array<{ path: Array<string>; message: string }> = []
  for (const [name, value] of query) {
    if (name !== "accountId" && name !== "lastEventId") {
      issues.push({ path: [name], message: "Unknown query parameter" })
    } else if (name in raw) issues.push({ path: [name], message: "Given more than once" })
    else raw[name] = value
  }
  const lastEventId = request.headers["last-event-id"]
  if (typeof lastEventId === "string" && lastEventId !== "" && raw.lastEventId === undefined) {
    raw.lastEventId = lastEventId
  }
  const decoded = decodeInput(raw, { errors: "all", onExcessProperty: "error" })
  if (Result.isFailure(decoded)) {
    for (const issue of formatIssues(decoded.failure.issue).issues) {
      issues.push({
        path: (issue.path ?? []).map((segment) =>
          String(typeof segment === "object" ? segment.key : segment),
        ),
        message: issue.message,
      })
    }
  }
  if (issues.length > 0 || Result.isFailure(decoded)) {
    return sendRestError(response, requestId, ValidationError.fromIssues(issues))
  }

  const signal = new AbortController()
  response.once("close", () => signal.abort())
  const opened = await openLive(
    app,
    { ...admission, caller, requestId },
    decoded.success,
    signal.signal,
  )
  if ("refused" in opened) return sendRestError(response, requestId, opened.refused)

  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  })
  response.write(": live\n\n")
  const ping = setInterval(() => response.write(": ping\n\n"), pingIntervalMs)
  try {
    for (;;) {
      const next = await opened.events.next()
      if (next.done === true) {
        const end = endRefusal(next.value)
        if (end !== undefined && !response.destroyed) {
          response.write(`event: error\ndata: ${JSON.stringify(errorBody(end, requestId))}\n\n`)
        }
        break
      }
      if (response.destroyed) break
      const ok = response.write(
        `id: ${next.value.id}\ndata: ${JSON.stringify(next.value.change)}\n\n`,
      )
      // A client reading slower than changes come: wait for it (its later changes wait in the
      // database, not in memory).
      if (!ok)
        await new Promise((resolve) => response.once("drain", resolve).once("close", resolve))
    }
  } finally {
    clearInterval(ping)
    signal.abort()
    response.end()
  }
}
