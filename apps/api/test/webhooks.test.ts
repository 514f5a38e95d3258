import { eventTypes, maxWebhooksPerUser } from "@txn/domain"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Input, type Json, ok, startTestApi } from "./harness.ts"

let api: Awaited<ReturnType<typeof startTestApi>>
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(async () => {
  await api.close()
})

const issuesOf = (response: { status: number; body: Json }) => {
  expect(response.status).toBe(400)
  expect(response.body.error.data.tag).toBe("ValidationError")
  return response.body.error.data.issues as Array<{ path: Array<string>; message: string }>
}

describe("webhooks", () => {
  it("creates an endpoint and shows its secret once; list and delete never show it", async () => {
    const created = ok(
      await api.mutate("webhooks.create", {
        url: "https://example.com/hooks",
        description: "Ledger sync",
        eventTypes: ["transaction.created", "transaction.posted"],
      }),
    )
    expect(created).toMatchObject({
      id: expect.stringMatching(/^whk_[0-9a-z]{26}$/),
      url: "https://example.com/hooks",
      description: "Ledger sync",
      eventTypes: ["transaction.created", "transaction.posted"],
      status: "active",
      disabledReason: null,
      failingSince: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    })
    const listed = ok(await api.query("webhooks.list", {}))
    const found = listed.items.find((w: Json) => w.id === created.id)
    const { secret: _, ...withoutSecret } = created
    expect(found).toEqual(withoutSecret)
    expect(JSON.stringify(listed)).not.toContain(created.secret)

    expect(ok(await api.query("webhooks.deliveries", { id: created.id }))).toEqual({
      items: [],
      hasMore: false,
      nextCursor: null,
    })
    expect(ok(await api.mutate("webhooks.delete", { id: created.id }))).toEqual({
      id: created.id,
      deleted: true,
    })
    const again = await api.mutate("webhooks.delete", { id: created.id })
    expect(again.status).toBe(404)
    expect(again.body.error.data.tag).toBe("NotFound")
  })

  it("updates an endpoint's fields, pauses it and turns it back on with a clean record", async () => {
    const created = ok(
      await api.mutate("webhooks.create", {
        url: "https://example.com/v1",
        description: "First",
        eventTypes: ["*"],
      }),
    )
    const updated = ok(
      await api.mutate("webhooks.update", {
        id: created.id,
        url: "https://example.com/v2",
        description: null,
        eventTypes: ["transaction.posted"],
      }),
    )
    expect(updated).toMatchObject({
      id: created.id,
      url: "https://example.com/v2",
      description: null,
      eventTypes: ["transaction.posted"],
      status: "active",
    })
    expect(updated).not.toHaveProperty("secret")
    const paused = ok(await api.mutate("webhooks.update", { id: created.id, status: "disabled" }))
    expect(paused).toMatchObject({ status: "disabled", disabledReason: "Disabled by its owner" })
    const resumed = ok(await api.mutate("webhooks.update", { id: created.id, status: "active" }))
    expect(resumed).toMatchObject({ status: "active", disabledReason: null, failingSince: null })

    const bad = issuesOf(
      await api.call("webhooks.update", { id: created.id, url: "ftp://x", status: "broken" }),
    )
    expect(bad.map((issue) => issue.path[0]).sort()).toEqual(["status", "url"])
    const missing = await api.mutate("webhooks.update", {
      id: "whk_00000000000000000000000000",
      status: "active",
    })
    expect(missing.status).toBe(404)
  })

  it("replays a create with the same idempotency key instead of making a second endpoint", async () => {
    const input: Input<"webhooks.create"> = {
      idempotencyKey: "hook-1",
      url: "https://example.com/once",
      eventTypes: ["*"],
    }
    const first = ok(await api.mutate("webhooks.create", input))
    const second = ok(await api.mutate("webhooks.create", input))
    expect(second).toEqual({ ...first, replayed: true })
    const reused = await api.mutate("webhooks.create", {
      ...input,
      url: "https://example.com/other",
    })
    expect(reused.status).toBe(422)
    expect(reused.body.error.data.tag).toBe("IdempotencyKeyReused")
  })

  it("answers malformed, hostile and oversized endpoints with the field and the reason", async () => {
    const cases: Array<[unknown, string]> = [
      ["ftp://example.com/x", "url"],
      ["javascript:alert(1)", "url"],
      ["/relative/path", "url"],
      ["https://user:pass@example.com/x", "url"],
      [`https://example.com/${"a".repeat(2100)}`, "url"],
      [42, "url"],
    ]
    for (const [url, field] of cases) {
      const issues = issuesOf(await api.call("webhooks.create", { url, eventTypes: ["*"] }))
      expect(issues.map((issue) => issue.path[0])).toEqual([field])
    }
    for (const types of [[], ["transaction.deleted"], ["*", "*"], Array(100).fill("*"), "*"]) {
      const issues = issuesOf(
        await api.call("webhooks.create", { url: "https://example.com/x", eventTypes: types }),
      )
      expect(issues.every((issue) => issue.path[0] === "eventTypes")).toBe(true)
    }
    const long = issuesOf(
      await api.mutate("webhooks.create", {
        url: "https://example.com/x",
        eventTypes: ["*"],
        description: "d".repeat(1001),
      }),
    )
    expect(long.map((issue) => issue.path[0])).toEqual(["description"])
  })

  it("accepts every event type it documents", async () => {
    const created = ok(
      await api.mutate("webhooks.create", {
        url: "https://example.com/all",
        eventTypes: [...eventTypes],
      }),
    )
    expect(created.eventTypes).toEqual([...eventTypes])
  })

  it(`refuses more than ${maxWebhooksPerUser} endpoints per user, saying so`, async () => {
    const { key } = await api.newUser()
    const create = (n: number) =>
      api.as(key).mutate("webhooks.create", { url: `https://example.com/${n}`, eventTypes: ["*"] })
    for (let n = 0; n < maxWebhooksPerUser; n++) expect((await create(n)).status).toBe(200)
    const refused = await create(maxWebhooksPerUser)
    expect(refused.status).toBe(400)
    expect(refused.body.error.data.issues[0].message).toMatch(/at most 25 webhooks/)
  })

  it("pages through endpoints with a cursor, newest first", async () => {
    const { key } = await api.newUser()
    const ids: Array<string> = []
    for (let n = 0; n < 5; n++) {
      const created = await api
        .as(key)
        .mutate("webhooks.create", { url: `https://example.com/p${n}`, eventTypes: ["*"] })
      ids.push(created.body.result.data.id)
    }
    const seen: Array<string> = []
    let cursor: string | undefined
    for (;;) {
      const page = ok(
        await api.as(key).query("webhooks.list", { limit: 2, ...(cursor ? { cursor } : {}) }),
      )
      seen.push(...page.items.map((w: Json) => w.id))
      if (!page.hasMore) break
      cursor = page.nextCursor ?? undefined
    }
    expect(seen).toEqual(ids.reverse())
  })
})
