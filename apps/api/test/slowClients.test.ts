import { connect } from "node:net"
import { makeId } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { afterEach, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

const requestTimeoutMs = 1000
/** A trickle this long outlasts the timeout twenty times over. */
const trickleBytes = 40
const trickleEveryMs = 500

let api: TestApi | undefined
afterEach(async () => {
  await api?.close()
  api = undefined
})

/**
 * Sends `head` at once, then one byte of `trickle` every 500 ms, and never the end of the request.
 * Resolves with what the server answered and how much of the trickle it had received by then.
 */
const trickled = async (head: (api: TestApi) => string, trickle: string) => {
  // A server of its own per test: Node checks its timeouts on an interval that starts with it.
  api = await startTestApi({ requestTimeoutMs })
  const socket = connect(Number(new URL(api.url).port), "127.0.0.1")
  socket.write(head(api))
  let sent = 0
  const raw = await new Promise<string>((resolve) => {
    let received = ""
    const timer = setInterval(() => {
      if (sent < trickle.length) socket.write(trickle.charAt(sent++))
      else {
        // The trickle is over and the server still waits: it never cut the client off.
        clearInterval(timer)
        socket.destroy()
      }
    }, trickleEveryMs)
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8")
    })
    socket.on("close", () => {
      clearInterval(timer)
      resolve(received)
    })
    // A byte written as the server hangs up fails here; "close" follows with what it answered.
    socket.on("error", () => {})
  })
  const [status = "", body = ""] = raw.split("\r\n\r\n")
  return {
    status: status.split("\r\n")[0],
    body: body === "" ? undefined : (JSON.parse(body) as Json),
    sent,
    total: trickle.length,
  }
}

const expectCutOff = (answer: Awaited<ReturnType<typeof trickled>>) => {
  expect(answer.status).toBe("HTTP/1.1 408 Request Timeout")
  expect(answer.body).toEqual({
    error: { tag: "Unavailable", message: "The request was not received in time" },
  })
  // Cut off by the timeout, not by the client running out of bytes.
  expect(answer.sent).toBeLessThan(answer.total)
}

describe("a client sending its request too slowly", () => {
  it("is cut off with a JSON 408 when its headers trickle in", async () => {
    const answer = await trickled(
      () => "GET /trpc/accounts.list HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ",
      "a".repeat(trickleBytes),
    )
    expectCutOff(answer)
  })

  it("is cut off with a JSON 408 when its body trickles in after complete headers", async () => {
    // With a valid key, so the request gets as far as reading its input.
    const head = ({ key }: TestApi) =>
      [
        "POST /trpc/accounts.create HTTP/1.1",
        "host: 127.0.0.1",
        `authorization: Bearer ${key}`,
        "content-type: application/json",
        "content-length: 1000",
        "",
        "",
      ].join("\r\n")
    const answer = await trickled(head, `{"name":"${"s".repeat(trickleBytes)}`)
    expectCutOff(answer)
  })
})

describe("a client that stops reading a download", () => {
  it("is cut off once it has taken in nothing for the request timeout", async () => {
    api = await startTestApi({ requestTimeoutMs })
    const { runtime, userId, key, url } = api
    // A completed export of 32 MiB, far more than the loopback socket buffers hold, written
    // straight into its tables.
    const chunks = 32
    const mib = 1024 * 1024
    const id = makeId("exp")
    await runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`
              insert into exports (id, user_id, status, total_rows, rows_written, bytes, chunks,
                                   created_at, completed_at, expires_at)
              values (${id}, ${userId}, 'completed', 0, 0, ${chunks * mib}, ${chunks}, now(), now(),
                      now() + interval '1 day')`
            yield* sql`
              insert into export_chunks (export_id, seq, data)
              select ${id}, seq, convert_to(repeat('a', ${mib}), 'UTF8')
                from generate_series(0, ${chunks - 1}) as seq`
          }),
        ),
      ),
    )
    const socket = connect(Number(new URL(url).port), "127.0.0.1")
    socket.write(
      `GET /v1/exports/${id}/download HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\n\r\n`,
    )
    let received = 0
    const outcome = await new Promise<"closed" | "still open">((resolve) => {
      // A server that never gives up sends all of it within this bound once the client reads.
      const bound = setTimeout(() => resolve("still open"), 60_000)
      socket.once("data", () => {
        // The answer has begun: read nothing more for five times the timeout, then read on.
        socket.pause()
        setTimeout(() => socket.resume(), requestTimeoutMs * 5)
      })
      socket.on("data", (chunk: Buffer) => {
        received += chunk.byteLength
      })
      socket.on("close", () => {
        clearTimeout(bound)
        resolve("closed")
      })
      socket.on("error", () => {})
    })
    socket.destroy()
    expect(outcome).toBe("closed")
    // Only what was in flight when the server gave up arrived, not the whole file.
    expect(received).toBeLessThan(chunks * mib)
    expect(api.logs.lines.some((line) => line.msg === "download client stopped reading")).toBe(true)
  })
})
