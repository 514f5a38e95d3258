import type { IncomingMessage } from "node:http"
import proxyAddr from "@fastify/proxy-addr"

const compiled = new WeakMap<ReadonlyArray<string>, (address: string, hop: number) => boolean>()

/**
 * The address a request came from: the connection's peer, or, when that peer is one of the
 * `trusted` proxies (TXN_TRUSTED_PROXIES), the address its `X-Forwarded-For` names, walked back
 * from the right for as long as each hop is trusted. With no trusted proxy the header is ignored:
 * any client can write it.
 */
export const clientAddressOf = (
  request: IncomingMessage,
  trusted: ReadonlyArray<string>,
): string => {
  if (trusted.length === 0) return request.socket.remoteAddress ?? "unknown"
  let trust = compiled.get(trusted)
  if (trust === undefined) {
    trust = proxyAddr.compile([...trusted])
    compiled.set(trusted, trust)
  }
  // A socket already gone has no peer address; proxy-addr would throw on it.
  if (request.socket.remoteAddress === undefined) return "unknown"
  return proxyAddr(request, trust)
}
