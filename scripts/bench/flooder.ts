/**
 * One flooding client, run in a worker thread by flood.ts: sends the same GET without a key to a
 * loopback API, `connections` requests in flight, until `durationMs` has passed or `maxRequests`
 * were sent, then reports what it got back.
 */
import { Agent, request } from "node:http"
import { parentPort, workerData } from "node:worker_threads"

export interface FlooderOptions {
  /** The whole URL, on 127.0.0.1. */
  readonly url: string
  readonly connections: number
  readonly durationMs: number
  readonly maxRequests: number
}

export interface FlooderReport {
  readonly requests: number
  readonly bytesSent: number
  readonly bytesReceived: number
  readonly statuses: Record<string, number>
}

const options = workerData as FlooderOptions
const target = new URL(options.url)
if (target.hostname !== "127.0.0.1") throw new Error("The flood only ever targets 127.0.0.1")
const agent = new Agent({ keepAlive: true, maxSockets: options.connections })
const deadline = Date.now() + options.durationMs
const report = {
  requests: 0,
  bytesSent: 0,
  bytesReceived: 0,
  statuses: {} as Record<string, number>,
}

const once = () =>
  new Promise<void>((resolve) => {
    const req = request(target, { agent }, (res) => {
      const status = String(res.statusCode)
      report.statuses[status] = (report.statuses[status] ?? 0) + 1
      res.on("data", (chunk: Buffer) => {
        report.bytesReceived += chunk.length
      })
      res.on("end", resolve)
      res.on("error", () => resolve())
    })
    req.on("error", () => {
      report.statuses.error = (report.statuses.error ?? 0) + 1
      resolve()
    })
    report.requests++
    report.bytesSent += target.pathname.length + target.search.length
    req.end()
  })

const connection = async () => {
  while (Date.now() < deadline && report.requests < options.maxRequests) await once()
}
await Promise.all(Array.from({ length: options.connections }, connection))
agent.destroy()
parentPort?.postMessage(report satisfies FlooderReport)
