import { lookup as dnsLookup, type LookupAddress } from "node:dns"
import { isIP, type LookupFunction } from "node:net"
import { isAllowedAddress, type WebhookTargetOptions, webhookUrlRefusal } from "@txn/platform"
import { Agent, buildConnector } from "undici"

/** Where deliveries may go, and how their host names are resolved. */
export interface WebhookNetwork extends WebhookTargetOptions {
  /** `dns.lookup` unless given: tests resolve names themselves, without DNS. */
  readonly lookup?: LookupFunction
}

/** A delivery refused before any connection: by its URL, or by the address its host resolved to. */
export class WebhookTargetRefused extends Error {
  override readonly name = "WebhookTargetRefused"
  readonly code = "ERR_WEBHOOK_TARGET_REFUSED"
}

/**
 * A request that got no HTTP answer: no connection (an unknown name, a refused or reset
 * connection, a name resolving to an address webhooks may not reach), with the reason as `cause`.
 */
export class WebhookConnectionFailed extends Error {
  override readonly name = "WebhookConnectionFailed"
}

/**
 * `lookup` that fails unless every address the name resolves to may be reached. The socket
 * connects to the address this returns, so the check and the connection use the same answer
 * whatever DNS says a moment later.
 */
export const guardLookup =
  (lookup: LookupFunction, allowed: (address: string) => boolean): LookupFunction =>
  (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, found, family) => {
      if (error !== null) {
        callback(error, "")
        return
      }
      const addresses: Array<LookupAddress> = Array.isArray(found)
        ? found
        : [{ address: found, family: family ?? isIP(found) }]
      // Any refused answer refuses the name: which address gets used is the resolver's choice.
      if (addresses.length === 0 || !addresses.every(({ address }) => allowed(address))) {
        callback(new WebhookTargetRefused(`${hostname} resolves to an address not allowed`), "")
        return
      }
      if (options.all === true) callback(null, addresses)
      else callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }

/**
 * A connector that refuses a host given as an IP address itself (the socket skips `lookup` for
 * those) and hands names to `connect`, whose `lookup` checks what they resolve to.
 */
export const guardConnector =
  (
    connect: buildConnector.connector,
    allowed: (address: string) => boolean,
  ): buildConnector.connector =>
  (options, callback) => {
    const host = options.hostname.replace(/^\[(.*)\]$/, "$1")
    if (isIP(host) !== 0 && !allowed(host)) {
      callback(new WebhookTargetRefused(`${host} is not allowed`), null)
      return
    }
    connect(options, callback)
  }

export interface WebhookClient {
  /**
   * POSTs without following redirects and answers the status, the answer's body read and
   * dropped so the connection is kept for the next delivery. Rejects with `WebhookTargetRefused`
   * when the URL names a host webhooks may not reach; with `WebhookConnectionFailed` when no
   * answer came (a name resolving to such an address: `WebhookTargetRefused` as its cause); with
   * the signal's reason when it aborted.
   */
  readonly post: (
    url: string,
    init: {
      readonly body: string
      readonly headers: Record<string, string>
      readonly signal: AbortSignal
    },
  ) => Promise<{ readonly status: number }>
  readonly close: () => Promise<void>
}

export const makeWebhookClient = (network: WebhookNetwork): WebhookClient => {
  const allowed = (address: string) => isAllowedAddress(address, network)
  // HTTP/1.1 only, as receivers have always been sent; HTTP/2 brings nothing to one POST. Kept-
  // alive connections to a receiver are reused by every delivery to it, so the lookup guard runs
  // once per connection, before it is made.
  const agent = new Agent({
    allowH2: false,
    connect: guardConnector(
      buildConnector({
        allowH2: false,
        lookup: guardLookup(network.lookup ?? dnsLookup, allowed),
      }),
      allowed,
    ),
  })
  return {
    post: async (url, init) => {
      const refusal = webhookUrlRefusal(url, network)
      if (refusal !== undefined) throw new WebhookTargetRefused(refusal)
      const target = new URL(url)
      try {
        const answer = await agent.request({
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: "POST",
          headers: { ...init.headers, "content-length": String(Buffer.byteLength(init.body)) },
          body: init.body,
          signal: init.signal,
        })
        // Reads what little a receiver answers; a long answer closes the connection instead.
        await answer.body.dump({ limit: 64 * 1024 }).catch(() => undefined)
        return { status: answer.statusCode }
      } catch (error) {
        if (init.signal.aborted) throw init.signal.reason
        throw new WebhookConnectionFailed("No answer", { cause: error })
      }
    },
    close: () => agent.close(),
  }
}
