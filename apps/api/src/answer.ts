/** Answers of the doors (Fetch `Response`s and their parts) written to Node's response. */
import type { ServerResponse } from "node:http"

/** A signal that aborts when the client goes away before its answer is written. */
export const abortedWith = (response: ServerResponse) => {
  const abort = new AbortController()
  response.once("close", () => {
    if (!response.writableFinished) abort.abort()
  })
  return abort.signal
}

/** A door's status and headers over the front's (Vary joins them). */
export const setAnswerHead = (
  response: ServerResponse,
  status: number,
  headers: Iterable<readonly [string, string]>,
) => {
  response.statusCode = status
  for (const [name, value] of headers) {
    const before = name === "vary" ? response.getHeader("vary") : undefined
    response.setHeader(name, before === undefined ? value : `${before}, ${value}`)
  }
}

/** A door's Fetch answer written whole. */
export const writeAnswer = (
  response: ServerResponse,
  status: number,
  headers: Headers,
  body: ArrayBuffer | undefined,
) => {
  setAnswerHead(response, status, headers)
  response.end(body === undefined ? undefined : Buffer.from(body))
}

/**
 * A stream of server-sent events (a tRPC subscription), written chunk by chunk as it comes until
 * it ends or the client leaves; proxies are asked not to buffer it. Read straight from the web
 * stream, without a Node stream in between: a process holding a thousand of them writes each
 * event a thousand times.
 */
export const streamAnswer = async (response: ServerResponse, answer: Response) => {
  setAnswerHead(response, answer.status, answer.headers)
  response.setHeader("x-accel-buffering", "no")
  response.flushHeaders()
  if (answer.body === null) {
    response.end()
    return
  }
  const reader = answer.body.getReader()
  const left = () => reader.cancel().catch(() => undefined)
  response.once("close", left)
  try {
    for (;;) {
      const chunk = await reader.read()
      if (chunk.done || response.destroyed) break
      // A client reading slower than events come: wait for it rather than buffer without end.
      if (!response.write(chunk.value)) {
        await new Promise((resolve) => response.once("drain", resolve).once("close", resolve))
      }
    }
  } catch {
    // The client left: the subscription has been told through the request's signal.
  } finally {
    response.off("close", left)
    response.end()
  }
}
