/**
 * Closed-loop loads for the throughput benchmark: each connection sends its next request as soon
 * as its last one is answered, until the time is up or the request count is reached. Loopback only.
 */
import { Agent, request } from "node:http"
import type pg from "pg"

export interface Sample {
  /** Requests sent and answered (or failed). */
  readonly requests: number
  /** Answered with a 2xx, or for SQL, run without an error. */
  readonly ok: number
  /** Everything else, by status code (or `error` for a failed connection or statement). */
  readonly failures: Readonly<Record<string, number>>
  readonly seconds: number
  /** Of the requests that succeeded, in ms, ascending. */
  readonly latencies: ReadonlyArray<number>
}

export interface HttpRequest {
  readonly method: "GET" | "POST"
  /** Path and query, on the load's base URL. */
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
}

export interface Bounds {
  readonly durationMs: number
  readonly maxRequests: number
}

const closedLoop = async (
  workers: number,
  bounds: Bounds,
  send: (worker: number, i: number) => Promise<string | undefined>,
): Promise<Sample> => {
  const latencies: Array<number> = []
  const failures: Record<string, number> = {}
  let requests = 0
  const started = performance.now()
  const deadline = started + bounds.durationMs
  const loop = async (worker: number) => {
    while (performance.now() < deadline && requests < bounds.maxRequests) {
      const i = requests++
      const sent = performance.now()
      const failure = await send(worker, i)
      if (failure === undefined) latencies.push(performance.now() - sent)
      else failures[failure] = (failures[failure] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: workers }, (_, worker) => loop(worker)))
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return { requests, ok: latencies.length, failures, seconds, latencies }
}

/**
 * `connections` kept-alive HTTP connections, each sending `next(i)`: to `base` (on 127.0.0.1), or
 * spread evenly over several bases, connection `n` to the `n % bases.length`th.
 */
export const httpLoad = async (
  base: string | ReadonlyArray<string>,
  connections: number,
  bounds: Bounds,
  next: (i: number) => HttpRequest,
) => {
  const bases = typeof base === "string" ? [base] : base
  if (bases.some((each) => new URL(each).hostname !== "127.0.0.1"))
    throw new Error("Loads only ever target 127.0.0.1")
  const agents = bases.map(
    (_, n) =>
      new Agent({
        keepAlive: true,
        maxSockets: Math.ceil((connections - n) / bases.length),
      }),
  )
  const send = (connection: number, i: number) => {
    const spec = next(i)
    const n = connection % bases.length
    return new Promise<string | undefined>((resolve) => {
      const req = request(
        new URL(spec.path, bases[n]),
        {
          agent: agents[n],
          method: spec.method,
          headers: {
            ...spec.headers,
            ...(spec.body === undefined
              ? {}
              : {
                  "content-type": "application/json",
                  "content-length": String(Buffer.byteLength(spec.body)),
                }),
          },
        },
        (res) => {
          const status = res.statusCode ?? 0
          res.resume()
          res.on("end", () => resolve(status >= 200 && status < 300 ? undefined : String(status)))
          res.on("error", () => resolve("error"))
        },
      )
      req.on("error", () => resolve("error"))
      req.end(spec.body)
    })
  }
  try {
    return await closedLoop(connections, bounds, send)
  } finally {
    for (const agent of agents) agent.destroy()
  }
}

/** Each of `clients` (connected already) running `step` after step, one at a time. */
export const sqlLoad = (
  clients: ReadonlyArray<pg.Client>,
  bounds: Bounds,
  step: (client: pg.Client, i: number) => Promise<unknown>,
) =>
  closedLoop(clients.length, bounds, (worker, i) =>
    step(clients[worker]!, i).then(
      () => undefined,
      (error: unknown) => `error: ${error instanceof Error ? error.message.slice(0, 100) : error}`,
    ),
  )
