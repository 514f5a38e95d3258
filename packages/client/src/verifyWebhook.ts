import { webhookHeaders as wireHeaders } from "@txn/domain/webhookWire"

/** The headers of every webhook delivery, by what each says. */
export const webhookHeaders = wireHeaders

/** What a webhook delivery's body holds. */
export interface WebhookEvent<Data = Record<string, unknown>> {
  /** The event's id (`evt_…`): the same on every retry, so receivers can drop duplicates. */
  readonly id: string
  readonly type: string
  readonly createdAt: string
  readonly data: Data
}

/** The header every webhook delivery carries: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const signatureHeader = webhookHeaders.signature

export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError"
}

export interface VerifyWebhookOptions {
  /** The request body exactly as received, before any JSON parsing. */
  readonly payload: string | Uint8Array
  /** The `Txn-Signature` header. */
  readonly signature: string | null | undefined
  /** The endpoint's `whsec_…` secret, shown when it was created. */
  readonly secret: string
  /** How old a signature may be, so a captured request cannot be replayed later. Default 300. */
  readonly toleranceSeconds?: number
  /** The time to check against, in milliseconds; defaults to now. */
  readonly now?: number
}

const encoder = new TextEncoder()

// Bytes over a fresh ArrayBuffer: since TypeScript 5.7 a plain Uint8Array may sit on a
// SharedArrayBuffer, which Web Crypto's BufferSource does not take under the DOM typings.
const fromHex = (hex: string) => {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined
  const bytes = new Uint8Array(new ArrayBuffer(hex.length / 2))
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

/**
 * Checks that a delivery was signed with the endpoint's secret over `<t>.<body>`, recently, and
 * returns its parsed event. Throws WebhookVerificationError otherwise. Uses Web Crypto, so it runs
 * in Node, browsers, Deno, Bun and edge runtimes; the comparison takes constant time.
 */
export const verifyWebhook = async <Data = Record<string, unknown>>(
  options: VerifyWebhookOptions,
): Promise<WebhookEvent<Data>> => {
  const header = options.signature ?? ""
  const fields = header.split(",").map((part) => part.trim().split("="))
  const timestamp = fields.find(([key]) => key === "t")?.[1]
  const signatures = fields.filter(([key]) => key === "v1").map(([, value]) => value ?? "")
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
    throw new WebhookVerificationError("Missing or malformed Txn-Signature header")
  }
  const now = options.now ?? Date.now()
  const tolerance = options.toleranceSeconds ?? 300
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError("The signature's timestamp is outside the tolerance")
  }
  const body =
    typeof options.payload === "string"
      ? options.payload
      : new TextDecoder().decode(options.payload)
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(options.secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  )
  const signed = encoder.encode(`${timestamp}.${body}`)
  for (const signature of signatures) {
    const bytes = fromHex(signature)
    if (bytes !== undefined && (await crypto.subtle.verify("HMAC", key, bytes, signed))) {
      try {
        return JSON.parse(body) as WebhookEvent<Data>
      } catch {
        throw new WebhookVerificationError("The body is not JSON")
      }
    }
  }
  throw new WebhookVerificationError("No signature matches the secret")
}
