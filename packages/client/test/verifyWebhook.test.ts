import { createHmac } from "node:crypto"
import { describe, expect, it } from "vitest"
import { verifyWebhook, WebhookVerificationError } from "../src/index.ts"

const secret = "whsec_aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y"
const body = JSON.stringify({
  id: "evt_0123456789abcdefghijklmnop",
  type: "transaction.created",
  createdAt: "2026-11-25T10:00:00.000Z",
  data: { transaction: { id: "txn_0123456789abcdefghijklmnop" } },
})
const now = Date.UTC(2026, 10, 25, 10, 0, 5)
const t = Math.floor(now / 1000)
const sign = (payload: string, key = secret, at = t) =>
  `t=${at},v1=${createHmac("sha256", key).update(`${at}.${payload}`).digest("hex")}`

const rejects = async (options: Parameters<typeof verifyWebhook>[0], reason: RegExp) => {
  const error = await verifyWebhook(options).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(WebhookVerificationError)
  expect((error as Error).message).toMatch(reason)
}

describe("verifyWebhook", () => {
  it("returns the event of a delivery signed with the secret, from a string or bytes", async () => {
    const event = await verifyWebhook({ payload: body, signature: sign(body), secret, now })
    expect(event).toEqual(JSON.parse(body))
    const fromBytes = await verifyWebhook({
      payload: new TextEncoder().encode(body),
      signature: sign(body),
      secret,
      now,
    })
    expect(fromBytes.id).toBe("evt_0123456789abcdefghijklmnop")
  })

  it("accepts any matching v1 signature among several (a rotated secret)", async () => {
    const header = `${sign(body, "whsec_old")},v1=${sign(body).split("v1=")[1]}`
    await expect(
      verifyWebhook({ payload: body, signature: header, secret, now }),
    ).resolves.toBeDefined()
  })

  it("rejects a changed body, another secret, a missing or malformed header", async () => {
    await rejects(
      {
        payload: body.replace("transaction.created", "transaction.voided"),
        signature: sign(body),
        secret,
        now,
      },
      /No signature matches/,
    )
    await rejects(
      { payload: body, signature: sign(body, "whsec_other"), secret, now },
      /No signature matches/,
    )
    await rejects({ payload: body, signature: undefined, secret, now }, /Missing or malformed/)
    await rejects({ payload: body, signature: "v1=abc", secret, now }, /Missing or malformed/)
    await rejects({ payload: body, signature: `t=${t},v1=zz`, secret, now }, /No signature matches/)
    await rejects(
      { payload: body, signature: `t=abc,${sign(body).split(",")[1]}`, secret, now },
      /Missing or malformed/,
    )
  })

  it("rejects a signature older or newer than the tolerance, so a captured request cannot be replayed", async () => {
    await rejects(
      { payload: body, signature: sign(body, secret, t - 301), secret, now },
      /tolerance/,
    )
    await rejects(
      { payload: body, signature: sign(body, secret, t + 301), secret, now },
      /tolerance/,
    )
    await expect(
      verifyWebhook({
        payload: body,
        signature: sign(body, secret, t - 3600),
        secret,
        now,
        toleranceSeconds: 7200,
      }),
    ).resolves.toBeDefined()
  })

  it("rejects a signed body that is not JSON", async () => {
    await rejects({ payload: "not json", signature: sign("not json"), secret, now }, /not JSON/)
  })
})
