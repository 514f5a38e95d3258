import { randomUUID } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let from: string
let to: string
beforeAll(async () => {
  api = await startTestApi({ allowPrivateWebhookTargets: true })
  const open = async (name: string) =>
    (await api.rest("POST", "/v1/accounts", { body: { name, currency: "EUR" } })).body.id
  ;[from, to] = [await open("From"), await open("To")]
  await api.rest("POST", "/v1/transactions", {
    body: { accountId: from, direction: "credit", amount: 1_000, currency: "EUR" },
  })
})
afterAll(() => api.close())

describe("transfers over REST", () => {
  it("moves money: 201 with its Location and both legs; a retry with the key replays it", async () => {
    const key = randomUUID()
    const body = { fromAccountId: from, toAccountId: to, amount: 400, currency: "EUR" }
    const moved = await api.rest("POST", "/v1/transfers", {
      body,
      headers: { "idempotency-key": key },
    })
    expect(moved.status).toBe(201)
    expect(moved.headers.get("location")).toBe(`/v1/transfers/${moved.body.id}`)
    const again = await api.rest("POST", "/v1/transfers", {
      body,
      headers: { "idempotency-key": key },
    })
    expect(again.headers.get("idempotent-replayed")).toBe("true")
    expect(again.body).toEqual(moved.body)
    const read = await api.rest("GET", `/v1/transfers/${moved.body.id}`)
    expect(read.body).toEqual(moved.body)
    const balance = await api.rest("GET", `/v1/accounts/${to}/balance`)
    expect(balance.body.posted).toBe(400)
  })

  it("refuses a transfer to the same account, naming toAccountId, and one past the funds", async () => {
    const same = await api.rest("POST", "/v1/transfers", {
      body: { fromAccountId: from, toAccountId: from, amount: 1, currency: "EUR" },
    })
    expect(same.status).toBe(400)
    expect(same.body.error.issues[0].path).toEqual(["toAccountId"])
    const broke = await api.rest("POST", "/v1/transfers", {
      body: { fromAccountId: from, toAccountId: to, amount: 1_000_000, currency: "EUR" },
    })
    expect(broke.status).toBe(422)
    expect(broke.body.error.tag).toBe("InsufficientFunds")
  })
})

describe("webhooks over REST", () => {
  it("registers an endpoint with its secret once, lists, changes, lists deliveries and deletes it", async () => {
    const created = await api.rest("POST", "/v1/webhooks", {
      body: { url: "http://127.0.0.1:9/hook", eventTypes: ["transaction.created"] },
    })
    expect(created.status).toBe(201)
    expect(created.body.secret).toMatch(/^whsec_/)
    expect(created.headers.get("location")).toBe(`/v1/webhooks/${created.body.id}`)
    const listed = await api.rest("GET", "/v1/webhooks?limit=5")
    expect(listed.body.items.map((hook: Json) => hook.id)).toContain(created.body.id)
    expect(listed.body.items.every((hook: Json) => !("secret" in hook))).toBe(true)
    const paused = await api.rest("PATCH", `/v1/webhooks/${created.body.id}`, {
      body: { status: "disabled" },
    })
    expect(paused.body).toMatchObject({ status: "disabled" })
    const deliveries = await api.rest(
      "GET",
      `/v1/webhooks/${created.body.id}/deliveries?status=failed&limit=10`,
    )
    expect(deliveries.status).toBe(200)
    expect(deliveries.body.items).toEqual([])
    const deleted = await api.rest("DELETE", `/v1/webhooks/${created.body.id}`)
    expect(deleted.body).toEqual({ id: created.body.id, deleted: true })
    const gone = await api.rest("PATCH", `/v1/webhooks/${created.body.id}`, {
      body: { status: "active" },
    })
    expect(gone.status).toBe(404)
  })

  it("refuses a URL that is not http(s), naming url", async () => {
    const refused = await api.rest("POST", "/v1/webhooks", {
      body: { url: "ftp://example.com/hook", eventTypes: ["transaction.created"] },
    })
    expect(refused.status).toBe(400)
    expect(refused.body.error.issues[0].path).toEqual(["url"])
  })
})

describe("exports over REST", () => {
  it("starts an export, follows it, and downloads its CSV once built", async () => {
    const started = await api.rest("POST", "/v1/exports", { body: { accountId: from } })
    expect(started.status).toBe(201)
    expect(started.headers.get("location")).toBe(`/v1/exports/${started.body.id}`)
    const followed = await api.rest("GET", `/v1/exports/${started.body.id}`)
    expect(followed.status).toBe(200)
    expect(followed.body.id).toBe(started.body.id)
  })
})

describe("admin over REST", () => {
  const admin = () => ({ auth: api.adminToken })

  it("creates a user and a key that then works, lists and revokes it", async () => {
    const user = await api.rest("POST", "/v1/admin/users", {
      body: { name: "Via REST" },
      ...admin(),
    })
    expect(user.status).toBe(201)
    const key = await api.rest("POST", `/v1/admin/users/${user.body.id}/api-keys`, {
      body: { name: "laptop", scopes: ["read"] },
      ...admin(),
    })
    expect(key.status).toBe(201)
    expect(key.body.secret).toMatch(/^txn_/)
    const works = await api.rest("GET", "/v1/accounts", { auth: key.body.secret })
    expect(works.status).toBe(200)
    const listed = await api.rest("GET", `/v1/admin/users/${user.body.id}/api-keys`, admin())
    expect(listed.body.map((apiKey: Json) => apiKey.id)).toEqual([key.body.apiKey.id])
    const revoked = await api.rest(
      "POST",
      `/v1/admin/api-keys/${key.body.apiKey.id}/revoke`,
      admin(),
    )
    expect(revoked.body.revokedAt).not.toBeNull()
  })

  it("refuses an API key 403 and no token 401", async () => {
    const withKey = await api.rest("POST", "/v1/admin/users", { body: { name: "No" } })
    expect(withKey.status).toBe(403)
    expect(withKey.body.error.tag).toBe("Forbidden")
    const without = await api.rest("POST", "/v1/admin/users", { body: { name: "No" }, auth: null })
    expect(without.status).toBe(401)
  })
})
