import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Input, type Json, startTestApi } from "./harness.ts"

/** Every way of writing an internal target a client might send, and what the answer calls it. */
const refused: Array<[string, string]> = [
  ["http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"],
  ["http://2852039166/", "169.254.169.254 is a cloud metadata address"],
  ["http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata address"],
  ["http://metadata.google.internal/computeMetadata/v1/", "metadata.google.internal is a cloud"],
  ["http://127.0.0.1/", "127.0.0.1 is a loopback address"],
  ["http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"],
  ["http://2130706433/", "127.0.0.1 is a loopback address"],
  ["http://0x7f.1/", "127.0.0.1 is a loopback address"],
  ["http://0177.0.0.1:5432/", "127.0.0.1 is a loopback address"],
  ["http://127.1/", "127.0.0.1 is a loopback address"],
  ["http://１２７.０.０.１/", "127.0.0.1 is a loopback address"],
  ["http://[::1]:6379/", "::1 is a loopback address"],
  ["http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 is a loopback address (127.0.0.1)"],
  ["http://[::127.0.0.1]/", "::7f00:1 is an IPv4-compatible address"],
  ["http://[64:ff9b::7f00:1]/", "64:ff9b::7f00:1 is a loopback address (127.0.0.1)"],
  ["http://[2002:7f00:1::]/", "2002:7f00:1:: is a loopback address (127.0.0.1)"],
  ["http://localhost:3000/", "localhost is a local or internal name"],
  ["http://0.0.0.0/", "0.0.0.0 is an unspecified address"],
  ["http://0/", "0.0.0.0 is an unspecified address"],
  ["http://[::]/", ":: is an unspecified address"],
  ["http://10.0.0.1/", "10.0.0.1 is a private address"],
  ["http://10.1/", "10.0.0.1 is a private address"],
  ["http://172.16.0.1/", "172.16.0.1 is a private address"],
  ["http://192.168.0.1/", "192.168.0.1 is a private address"],
  ["http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"],
  ["http://169.254.0.1/", "169.254.0.1 is a link-local address"],
  ["http://[fe80::1]/", "fe80::1 is a link-local address"],
  ["http://[fd00::1]/", "fd00::1 is a unique-local address"],
  ["http://224.0.0.1/", "224.0.0.1 is a multicast address"],
  ["http://255.255.255.255/", "255.255.255.255 is the broadcast address"],
  ["http://192.0.2.1/", "192.0.2.1 is a reserved or documentation address"],
  ["http://198.18.0.1/", "198.18.0.1 is a reserved or documentation address"],
  ["http://[2001:db8::1]/", "2001:db8::1 is a reserved or documentation address"],
  ["http://redis:6379/", "redis is a single-label name"],
  ["http://db.internal/", "db.internal is a local or internal name"],
]

const urlIssue = (response: { status: number; body: Json }) => {
  expect(response.status).toBe(400)
  expect(response.body.error.data.tag).toBe("ValidationError")
  const issues = response.body.error.data.issues as Array<{ path: Array<string>; message: string }>
  expect(issues.map((issue) => issue.path)).toEqual([["url"]])
  return issues[0]!.message
}

describe("webhook targets, private targets off (the default)", () => {
  let api: Awaited<ReturnType<typeof startTestApi>>
  let webhookId: string
  beforeAll(async () => {
    api = await startTestApi()
    const created = await api.mutate("webhooks.create", {
      url: "https://hooks.example.com/in",
      eventTypes: ["*"],
    })
    expect(created.status).toBe(200)
    webhookId = created.body.result.data.id
  })
  afterAll(async () => {
    await api.close()
  })

  it.each(refused)("webhooks.create refuses %s: %s", async (url, reason) => {
    const message = urlIssue(await api.mutate("webhooks.create", { url, eventTypes: ["*"] }))
    expect(message).toContain(reason)
  })

  it.each(refused)("webhooks.update refuses %s and keeps the old URL", async (url, reason) => {
    const message = urlIssue(await api.mutate("webhooks.update", { id: webhookId, url }))
    expect(message).toContain(reason)
    const listed = await api.query("webhooks.list", {})
    expect(listed.body.result.data.items.map((w: Json) => w.url)).toEqual([
      "https://hooks.example.com/in",
    ])
  })

  it("refuses before the idempotency key is spent, so the key still works for a good URL", async () => {
    const bad: Input<"webhooks.create"> = {
      idempotencyKey: "target-1",
      url: "http://10.0.0.1/",
      eventTypes: ["*"],
    }
    urlIssue(await api.mutate("webhooks.create", bad))
    const good = await api.mutate("webhooks.create", {
      ...bad,
      url: "https://hooks.example.com/other",
    })
    expect(good.status).toBe(200)
    await api.mutate("webhooks.delete", { id: good.body.result.data.id })
  })

  it.each([
    "https://hooks.example.com:8443/in",
    "http://8.8.8.8:6379/",
    "http://[2606:4700:4700::1111]/",
  ])("accepts the public %s", async (url) => {
    const answer = await api.mutate("webhooks.update", { id: webhookId, url })
    expect(answer.status).toBe(200)
    expect(answer.body.result.data.url).toBe(url)
    await api.mutate("webhooks.update", { id: webhookId, url: "https://hooks.example.com/in" })
  })
})

describe("webhook targets with private targets on (TXN_WEBHOOK_ALLOW_PRIVATE=true)", () => {
  let api: Awaited<ReturnType<typeof startTestApi>>
  beforeAll(async () => {
    api = await startTestApi({ allowPrivateWebhookTargets: true })
  })
  afterAll(async () => {
    await api.close()
  })

  it("accepts loopback and private receivers", async () => {
    for (const url of [
      "http://127.0.0.1:4000/hooks",
      "http://localhost:4000/",
      "http://10.0.0.1/",
    ]) {
      const created = await api.mutate("webhooks.create", { url, eventTypes: ["*"] })
      expect(created.status).toBe(200)
      await api.mutate("webhooks.delete", { id: created.body.result.data.id })
    }
  })

  it("still refuses metadata services and addresses that are never a receiver", async () => {
    for (const url of [
      "http://169.254.169.254/",
      "http://[::ffff:169.254.169.254]/",
      "http://metadata.google.internal/",
      "http://0.0.0.0/",
      "http://224.0.0.1/",
    ]) {
      urlIssue(await api.mutate("webhooks.create", { url, eventTypes: ["*"] }))
    }
  })
})
