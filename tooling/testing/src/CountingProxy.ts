import { once } from "node:events"
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net"

/**
 * A loopback hop in front of PostgreSQL that counts what clients send: every `Sync` (the end of
 * an extended-protocol statement) and every simple `Query` is one statement the server answers,
 * so one round trip.
 */
export const startCountingProxy = async (target: { host: string; port: number }) => {
  let statements = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on("error", () => {})
      socket.on("close", () => {
        sockets.delete(socket)
        client.end()
        upstream.end()
      })
    }
    let buffered = Buffer.alloc(0)
    let started = false
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk)
      buffered = Buffer.concat([buffered, chunk])
      for (;;) {
        if (!started) {
          // Untyped start-up messages: an SSL or GSS request, then the startup message.
          if (buffered.length < 8) break
          const length = buffered.readInt32BE(0)
          if (buffered.length < length) break
          if (buffered.readInt32BE(4) === 196608) started = true
          buffered = buffered.subarray(length)
          continue
        }
        if (buffered.length < 5) break
        const length = buffered.readInt32BE(1)
        if (buffered.length < 1 + length) break
        const type = String.fromCharCode(buffered[0]!)
        if (type === "S" || type === "Q") statements += 1
        buffered = buffered.subarray(1 + length)
      }
    })
    upstream.on("data", (chunk: Buffer) => client.write(chunk))
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return {
    port: (server.address() as AddressInfo).port,
    statements: () => statements,
    close: async () => {
      const closed = once(server, "close")
      server.close()
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}
