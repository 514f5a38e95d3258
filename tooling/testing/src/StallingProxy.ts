import { once } from "node:events"
import { type AddressInfo, connect, createServer, type Socket } from "node:net"

/** Bytes going to the server behind the proxy, or coming back from it. */
export type Direction = "toServer" | "toClient"

/**
 * A loopback TCP hop in front of a server (PostgreSQL, Redis) that a test can stall: while
 * stalled no byte moves either way and none is lost, as when every process of that server is
 * stopped with SIGSTOP. Connections stay open, new ones are accepted and wait; `resume` lets
 * everything through in order, closes included, as SIGCONT would.
 */
export const startStallingProxy = async (target: {
  readonly host: string
  readonly port: number
}) => {
  const sockets = new Set<Socket>()
  let stalled = false
  let trigger: { readonly direction: Direction; readonly bytes: Buffer } | undefined
  /** What arrived as the stall began, delivered first on resume. */
  const held: Array<{ readonly to: Socket; readonly chunk: Buffer }> = []

  const stall = () => {
    stalled = true
    for (const socket of sockets) socket.pause()
  }
  const forward = (from: Socket, to: Socket, direction: Direction) => {
    from.on("data", (chunk: Buffer) => {
      if (trigger?.direction === direction && chunk.includes(trigger.bytes)) {
        trigger = undefined
        stall()
        held.push({ to, chunk })
        return
      }
      if (!to.write(chunk)) from.pause()
    })
    to.on("drain", () => {
      if (!stalled) from.resume()
    })
    from.on("end", () => to.end())
  }
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      if (stalled) socket.pause()
      socket.on("error", () => {})
      socket.on("close", () => {
        sockets.delete(socket)
        // Ending (not destroying) the other side delivers what it still has to write first.
        client.end()
        upstream.end()
      })
    }
    forward(client, upstream, "toServer")
    forward(upstream, client, "toClient")
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return {
    port: (server.address() as AddressInfo).port,
    isStalled: () => stalled,
    stall,
    /** Stalls as soon as bytes containing `text` pass in `direction`, holding those bytes back. */
    stallWhen: (direction: Direction, text: string) => {
      trigger = { direction, bytes: Buffer.from(text) }
    },
    resume: () => {
      stalled = false
      trigger = undefined
      for (const { to, chunk } of held.splice(0)) to.write(chunk)
      for (const socket of sockets) socket.resume()
    },
    close: async () => {
      const closed = once(server, "close")
      server.close()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

export type StallingProxy = Awaited<ReturnType<typeof startStallingProxy>>
