import { isIP } from "node:net"
import { WebhookTargetPolicy } from "@txn/domain"
import * as Layer from "effect/Layer"
import ipaddr from "ipaddr.js"

export interface WebhookTargetOptions {
  /** Loopback, private, link-local and unique-local targets allowed (TXN_WEBHOOK_ALLOW_PRIVATE). */
  readonly allowPrivate: boolean
}

/**
 * What an address is to webhooks: `public` may always be reached, `private` only when private
 * targets are allowed (development, tests), `forbidden` never (metadata services, unspecified,
 * broadcast, multicast, documentation and other reserved ranges).
 */
export interface AddressClass {
  readonly kind: "public" | "private" | "forbidden"
  /** "a loopback address", for the message that refuses it. */
  readonly what: string
}

const metadataAddresses = new Set(
  [
    "169.254.169.254", // AWS, GCP, Azure, Oracle, OpenStack, DigitalOcean
    "169.254.170.2", // AWS ECS task metadata
    "169.254.170.23", // AWS EKS pod identity
    "100.100.100.200", // Alibaba Cloud
    "fd00:ec2::254", // AWS over IPv6
    "fd00:ec2::23", // AWS EKS pod identity over IPv6
  ].map((address) => ipaddr.parse(address).toString()),
)

const metadataNames = new Set([
  "metadata.google.internal",
  "metadata.goog",
  "metadata",
  "instance-data",
  "instance-data.ec2.internal",
])

/** Names that resolve only inside a machine or a network (RFC 6761, RFC 6762, RFC 8375, ICANN). */
const localSuffixes = ["localhost", "localdomain", "local", "internal", "home.arpa"]

const privateRanges: Readonly<Record<string, string>> = {
  loopback: "a loopback address",
  private: "a private address",
  linkLocal: "a link-local address",
  carrierGradeNat: "a carrier-grade NAT address",
  uniqueLocal: "a unique-local address",
  deprecatedSiteLocal: "a site-local address",
}

const forbiddenRanges: Readonly<Record<string, string>> = {
  unspecified: "an unspecified address",
  broadcast: "the broadcast address",
  multicast: "a multicast address",
  reserved: "a reserved or documentation address",
  benchmarking: "a benchmarking address",
  teredo: "a Teredo address",
}

const fromRange = (range: string): AddressClass => {
  const privateWhat = privateRanges[range]
  if (privateWhat !== undefined) return { kind: "private", what: privateWhat }
  return { kind: "forbidden", what: forbiddenRanges[range] ?? "a special-purpose address" }
}

const classifyIPv4 = (address: ipaddr.IPv4): AddressClass => {
  if (metadataAddresses.has(address.toString())) {
    return { kind: "forbidden", what: "a cloud metadata address" }
  }
  const range = address.range()
  return range === "unicast" ? { kind: "public", what: "a public address" } : fromRange(range)
}

/** The IPv4 address inside an IPv6 one, where a translation or tunnel mechanism put it. */
const embeddedIPv4 = (address: ipaddr.IPv6): ipaddr.IPv4 | "local-use" | undefined => {
  const [a, b, c, d, e, f, g, h] = address.parts as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const fromParts = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
  switch (address.range()) {
    case "ipv4Mapped":
    case "rfc6145":
      return fromParts(g, h)
    case "rfc6052":
      // 64:ff9b::/96 carries the address in its last 32 bits; 64:ff9b:1::/48 is a network's own.
      return a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0
        ? fromParts(g, h)
        : "local-use"
    case "6to4":
      return fromParts(b, c)
    case "unicast":
      // ::a.b.c.d, deprecated "IPv4-compatible": never a real IPv6 host.
      return a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0
        ? fromParts(g, h)
        : undefined
    default:
      return undefined
  }
}

const classifyIPv6 = (address: ipaddr.IPv6): AddressClass => {
  if (metadataAddresses.has(address.toString())) {
    return { kind: "forbidden", what: "a cloud metadata address" }
  }
  const embedded = embeddedIPv4(address)
  if (embedded === "local-use") return { kind: "private", what: "a local-use NAT64 address" }
  if (embedded !== undefined) {
    if (address.range() === "unicast") {
      return { kind: "forbidden", what: `an IPv4-compatible address (${embedded})` }
    }
    const inner = classifyIPv4(embedded)
    return inner.kind === "public"
      ? inner
      : { kind: inner.kind, what: `${inner.what} (${embedded}) inside an IPv6 address` }
  }
  const range = address.range()
  return range === "unicast" ? { kind: "public", what: "a public address" } : fromRange(range)
}

/** Classifies an IP address as the network stack would reach it (v4, v6 and v4 inside v6). */
export const classifyAddress = (address: string): AddressClass => {
  const parsed = ipaddr.parse(address)
  return parsed.kind() === "ipv4"
    ? classifyIPv4(parsed as ipaddr.IPv4)
    : classifyIPv6(parsed as ipaddr.IPv6)
}

const permits = (found: AddressClass, options: WebhookTargetOptions) =>
  found.kind === "public" || (found.kind === "private" && options.allowPrivate)

/** Whether a delivery may connect to `address`, an IP address a host name resolved to. */
export const isAllowedAddress = (address: string, options: WebhookTargetOptions): boolean =>
  isIP(address) !== 0 && permits(classifyAddress(address), options)

const refusal = (host: string, what: string) =>
  `${host} is ${what}; webhooks must target a public address`

/**
 * Why a webhook may not be sent to `url`, judged from the URL alone, or undefined when it may.
 * `new URL` has already turned every spelling of an IPv4 address (`2130706433`, `0x7f.1`,
 * `0177.0.0.1`, `127.1`) into dotted decimal and IPv6 into its compressed form, so the host is
 * either an IP address or a name. Names are resolved only at delivery, where the address they
 * resolve to is checked again before connecting.
 */
export const webhookUrlRefusal = (
  url: string,
  options: WebhookTargetOptions,
): string | undefined => {
  if (!URL.canParse(url)) return "Expected an absolute http or https URL"
  const { hostname } = new URL(url)
  const host = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname.replace(/\.+$/, "")
  if (isIP(host) !== 0) {
    const found = classifyAddress(host)
    return permits(found, options) ? undefined : refusal(host, found.what)
  }
  if (metadataNames.has(host)) return refusal(host, "a cloud metadata service")
  if (options.allowPrivate) return undefined
  if (localSuffixes.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))) {
    return refusal(host, "a local or internal name")
  }
  if (!host.includes("."))
    return refusal(host, "a single-label name, resolved on the local network")
  return undefined
}

/** The domain's target policy on these rules. */
export const webhookTargetPolicyLayer = (options: WebhookTargetOptions) =>
  Layer.succeed(
    WebhookTargetPolicy,
    WebhookTargetPolicy.of({ refusal: (url) => webhookUrlRefusal(url, options) }),
  )
