import type { IncomingMessage, ServerResponse } from "node:http"
import { ExportId, Exports, Grant, Unavailable, ValidationError } from "@txn/domain"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { type AdmissionOptions, admit } from "./admission.ts"
import type { AppContext } from "./context.ts"
import { beforeDeadline, type Deadline, deadlineIn } from "./deadline.ts"
import { restDoor } from "./rest/errors.ts"
import { readingUser, sendRestError as sendError } from "./restStream.ts"
import { grantOf } from "./withinRequest.ts"

/** `/v1/exports/<id>/download`; the id is checked by its schema, not by this pattern. */
export const exportDownloadPath = /^\/v1\/exports\/([^/]*)\/download$/

/**
 * `GET /v1/exports/<id>/download`: the CSV of a completed export, streamed one chunk at a time
 * from PostgreSQL, so a download holds about 1 MiB in memory however large the file. The front
 * door's admission (authentication, rate limit) runs first, as for every REST operation, then
 * the read scope and the id are checked.
 * Another user's export, a missing, expired or unfinished one all answer 404 NotFound. The answer
 * starts within the request timeout; each chunk after that gets the same time to be read.
 */
export const downloadExport = async (
  app: AppContext,
  options: AdmissionOptions,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
  rawId: string,
) => {
  const admission = await admit(app, options, restDoor, request, response, requestId)
  if (admission === undefined) return
  const { deadline } = admission
  const caller = readingUser(admission.caller, request.method, response, "Downloads")
  if (!("kind" in caller)) return sendError(response, requestId, caller)
  const decoded = Schema.decodeUnknownResult(ExportId)(safeDecode(rawId))
  if (Result.isFailure(decoded)) {
    const issue = { path: ["id"], message: decoded.failure.message }
    return sendError(response, requestId, ValidationError.fromIssues([issue]))
  }
  const id = decoded.success

  // A database that is down or stalled answers Unavailable (or cuts the stream), never a 500 or
  // a request hanging forever.
  const within = <A, E>(until: Deadline, effect: Effect.Effect<A, E, Exports>) =>
    app.runtime.runPromiseExit(
      effect.pipe(
        beforeDeadline(until, () => Effect.die(new Error("Timed out reading the export"))),
        Effect.provideService(Grant, grantOf(caller)),
        Effect.annotateLogs({ requestId, userId: caller.userId }),
      ),
    )
  const unavailable = (cause: Cause.Cause<unknown>) => {
    app.log.error({ requestId, cause: Cause.pretty(cause) }, "export download failed")
    return new Unavailable({ message: "The export cannot be read right now; try again" })
  }

  const found = await within(
    deadline,
    Exports.use((exports) => exports.download(caller.userId, { id })),
  )
  if (Exit.isFailure(found)) {
    const error = Cause.findErrorOption(found.cause)
    return sendError(
      response,
      requestId,
      Option.isSome(error) ? error.value : unavailable(found.cause),
    )
  }
  const file = found.value
  response.writeHead(200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${file.id}.csv"`,
    "content-length": file.bytes,
    "cache-control": "private, no-store",
    "x-content-type-options": "nosniff",
  })
  let sent = 0
  for (let seq = 0; !response.destroyed; seq++) {
    const chunk = await within(
      deadlineIn(app.requestTimeoutMs),
      Exports.use((exports) => exports.readChunk(caller.userId, file.id, seq)),
    )
    if (Exit.isFailure(chunk)) {
      unavailable(chunk.cause)
      break
    }
    if (Option.isNone(chunk.value)) break
    sent += chunk.value.value.byteLength
    if (!response.write(chunk.value.value)) {
      await drained(response, app.requestTimeoutMs, () =>
        app.log.warn({ requestId, exportId: file.id, sent }, "download client stopped reading"),
      )
    }
  }
  // Short of the length announced (the export expired meanwhile, the database failed): the
  // client must see a broken download, not a complete-looking short file.
  if (sent !== file.bytes) {
    if (!response.destroyed)
      app.log.warn({ requestId, exportId: file.id, sent }, "download cut short")
    response.destroy()
    return
  }
  response.end()
}

/** The id as sent, percent-decoded; text that is not valid percent-encoding stays as it is. */
const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * Resolves once the response can take more, or has closed (the client went away). A client that
 * takes in nothing more for `timeoutMs` is cut off: otherwise one that stops reading would hold its
 * connection and this download open for good.
 */
const drained = (response: ServerResponse, timeoutMs: number, onTimeout: () => void) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onTimeout()
      response.destroy()
    }, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      response.off("drain", done)
      response.off("close", done)
      resolve()
    }
    response.once("drain", done)
    response.once("close", done)
  })
