import type { LookupFunction } from "node:net"
import { type WebhookId, Webhooks } from "@txn/domain"
import { eventually } from "@txn/testing"
import * as Effect from "effect/Effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Background, startBackground } from "./background.ts"
import { connectionFailed, startReceiver } from "./receiver.ts"

/**
 * Resolves `good.example` to 127.0.0.1 without asking DNS, as a name whose record was changed to
 * point inside the network after the URL was saved; every other name does not exist.
 */
const rebinding = () => {
  const asked: Array<string> = []
  const lookup: LookupFunction = (hostname, options, callback) => {
    asked.push(hostname)
    if (hostname !== "good.example") {
      callback(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }),
        "",
      )
    } else if (options.all === true) callback(null, [{ address: "127.0.0.1", family: 4 }])
    else callback(null, "127.0.0.1", 4)
  }
  return { lookup, asked }
}

const settings = { webhookAttempts: 2, webhookBackoffMs: 100 }

const settledDeliveries = (bg: Background, id: WebhookId) =>
  eventually(
    async () => {
      const page = await bg.runtime.runPromise(
        Webhooks.use((webhooks) => webhooks.deliveries(bg.userId, { id })),
      )
      return page.items.length > 0 && page.items.every((d) => d.status !== "pending")
        ? page.items
        : undefined
    },
    { what: "settled deliveries", timeoutMs: 30_000 },
  )

/** Its later events would reach the next test's endpoint too. */
const remove = (bg: Background, id: WebhookId) =>
  bg.runtime.runPromise(Webhooks.use((webhooks) => webhooks.delete(bg.userId, { id })))

describe("with private targets off, as in production", () => {
  const resolver = rebinding()
  let bg: Background
  beforeAll(async () => {
    bg = await startBackground({
      redisUrl: undefined,
      label: "private_off",
      settings,
      webhookNetwork: { allowPrivate: false, lookup: resolver.lookup },
    })
  })
  afterAll(async () => {
    await bg.close()
  })

  it("refuses to save a webhook on a loopback address", async () => {
    const error = await bg.runtime.runPromise(
      Webhooks.use((w) =>
        w.create(bg.userId, { url: "http://127.0.0.1:6379/", eventTypes: ["*"] }),
      ).pipe(Effect.flip),
    )
    expect(error).toMatchObject({
      _tag: "ValidationError",
      issues: [{ path: ["url"], message: expect.stringContaining("loopback") }],
    })
  })

  it("never connects to a name that resolves to 127.0.0.1, and logs only a generic failure", async () => {
    const receiver = await startReceiver()
    const webhook = await bg.createWebhook({
      url: `http://good.example:${receiver.port}/hooks`,
      eventTypes: ["account.created"],
    })
    receiver.useSecret(webhook.secret)
    await bg.openAccount("Rebound")
    const [delivery] = await settledDeliveries(bg, webhook.id)
    expect(delivery).toMatchObject({
      status: "failed",
      attempts: settings.webhookAttempts,
      lastStatusCode: null,
      lastError: connectionFailed,
    })
    expect(delivery!.log.map((a) => [a.statusCode, a.error])).toEqual([
      [null, connectionFailed],
      [null, connectionFailed],
    ])
    // The lookup answered with a listening address; only the refusal explains no connection.
    expect(resolver.asked).toContain("good.example")
    expect(receiver.connections()).toBe(0)
    expect(receiver.arrivals).toEqual([])
    const visible = JSON.stringify(delivery)
    for (const detail of ["127.0.0.1", "ECONNREFUSED", "ERR_WEBHOOK"]) {
      expect(visible).not.toContain(detail)
    }
    await remove(bg, webhook.id)
    await receiver.close()
  })

  it("logs an unknown name exactly as it logs a refused address", async () => {
    const webhook = await bg.createWebhook({
      url: "http://missing.example/hooks",
      eventTypes: ["account.created"],
    })
    await bg.openAccount("Nowhere")
    const [delivery] = await settledDeliveries(bg, webhook.id)
    expect(delivery!.log.map((a) => a.error)).toEqual([connectionFailed, connectionFailed])
    await remove(bg, webhook.id)
  })

  it("refuses a loopback URL saved before these rules, without resolving or connecting", async () => {
    const receiver = await startReceiver()
    const webhook = await bg.createWebhook({
      url: "https://placeholder.example/hooks",
      eventTypes: ["account.created"],
    })
    const saved = `http://127.0.0.1:${receiver.port}/hooks`
    await bg.query("update webhooks set url = $1 where id = $2", saved, webhook.id)
    const asked = resolver.asked.length
    await bg.openAccount("Old row")
    const [delivery] = await settledDeliveries(bg, webhook.id)
    expect(delivery!.log.map((a) => a.error)).toEqual([
      "Target not allowed: 127.0.0.1 is a loopback address; webhooks must target a public address",
      "Target not allowed: 127.0.0.1 is a loopback address; webhooks must target a public address",
    ])
    expect(resolver.asked.length).toBe(asked)
    expect(receiver.connections()).toBe(0)
    await receiver.close()
  })
})

describe("with private targets on (TXN_WEBHOOK_ALLOW_PRIVATE=true)", () => {
  const resolver = rebinding()
  let bg: Background
  beforeAll(async () => {
    bg = await startBackground({
      redisUrl: undefined,
      label: "private_on",
      settings,
      webhookNetwork: { allowPrivate: true, lookup: resolver.lookup },
    })
  })
  afterAll(async () => {
    await bg.close()
  })

  it("delivers to a name that resolves to 127.0.0.1, on the address the lookup gave", async () => {
    const receiver = await startReceiver()
    const webhook = await bg.createWebhook({
      url: `http://good.example:${receiver.port}/hooks`,
      eventTypes: ["account.created"],
    })
    receiver.useSecret(webhook.secret)
    const account = await bg.openAccount("Local receiver")
    const [delivery] = await settledDeliveries(bg, webhook.id)
    expect(delivery).toMatchObject({ status: "delivered", lastStatusCode: 200, lastError: null })
    expect(receiver.received.map((r) => r.event.data)).toMatchObject([
      { account: { id: account.id } },
    ])
    expect(receiver.received[0]!.headers.host).toBe(`good.example:${receiver.port}`)
    expect(resolver.asked).toContain("good.example")
    await receiver.close()
  })

  it("still refuses the cloud metadata address", async () => {
    const error = await bg.runtime.runPromise(
      Webhooks.use((w) =>
        w.create(bg.userId, { url: "http://169.254.169.254/latest/meta-data/", eventTypes: ["*"] }),
      ).pipe(Effect.flip),
    )
    expect(error).toMatchObject({
      _tag: "ValidationError",
      issues: [{ path: ["url"], message: expect.stringContaining("cloud metadata") }],
    })
  })
})
