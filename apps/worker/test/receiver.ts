import { once } from "node:events"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { signatureHeader, verifyWebhook, type WebhookEvent } from "@txn/client"

/** What the delivery log says for any failure to connect, whatever its cause. */
export const connectionFailed =
  "Connection failed: unknown host, no connection, or an address webhooks may not reach"

export interface Received {
  readonly event: WebhookEvent
  readonly headers: IncomingMessage["headers"]
  readonly attempt: number
}

/** One verified request, whatever the answer: what a receiver de-duplicates by. */
export interface Arrival {
  readonly eventId: string
  readonly deliveryId: string
  readonly attempt: number
}

/** What the receiver answers a request with: a status, after an optional pause, or nothing ever. */
export type Answer = number | { readonly status: number; readonly delayMs: number } | "hang"

/**
 * A real HTTP endpoint that checks every request's signature with the client's `verifyWebhook`,
 * as a user's receiver would. Verified events are recorded (each time they arrive, duplicates
 * included); anything unsigned or wrongly signed is counted as rejected and answered 400.
 */
export const startReceiver = async (
  answer: (event: WebhookEvent, attempt: number) => Answer | Promise<Answer> = () => 200,
) => {
  let secret = ""
  const received: Array<Received> = []
  const rejected: Array<string> = []
  const arrivals: Array<string> = []
  const requests: Array<Arrival> = []
  const hanging = new Set<() => void>()
  const server = createServer(async (request, response) => {
    const chunks: Array<Buffer> = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString("utf8")
    let event: WebhookEvent
    try {
      event = await verifyWebhook({
        payload: body,
        signature: request.headers[signatureHeader] as string,
        secret,
      })
    } catch (error) {
      rejected.push((error as Error).message)
      response.writeHead(400).end()
      return
    }
    arrivals.push(event.id)
    const attempt = Number(request.headers["txn-delivery-attempt"])
    requests.push({
      eventId: event.id,
      deliveryId: String(request.headers["txn-delivery-id"]),
      attempt,
    })
    const reply = await answer(event, attempt)
    if (reply === "hang") {
      hanging.add(() => response.destroy())
      return
    }
    const { status, delayMs } = typeof reply === "number" ? { status: reply, delayMs: 0 } : reply
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
    if (status >= 200 && status < 300) received.push({ event, headers: request.headers, attempt })
    response.writeHead(status).end()
  })
  let connections = 0
  server.on("connection", () => {
    connections += 1
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    /** TCP connections accepted, whether or not a request followed. */
    connections: () => connections,
    /** Events answered with a 2xx, in arrival order. */
    received,
    /** Every verified arrival's event id, whatever the answer. */
    arrivals,
    /** Every verified arrival with its delivery id and attempt number, in arrival order. */
    requests,
    rejected,
    useSecret: (value: string) => {
      secret = value
    },
    close: async () => {
      for (const release of hanging) release()
      server.closeAllConnections()
      server.close()
    },
  }
}
