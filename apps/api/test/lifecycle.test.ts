import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Input, type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
let keyId: string
let accountId: string
beforeAll(async () => {
  api = await startTestApi()
  const keys = await api.as(api.adminToken).query("admin.apiKeys.list", { userId: api.userId })
  keyId = keys.body.result.data[0].id
  accountId = ok(
    await api.mutate("accounts.create", {
      name: "Lifecycle",
      currency: "USD",
      allowNegative: true,
    }),
  ).id
})
afterAll(() => api.close())

const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000).toISOString()

const create = async (extra: Partial<Input<"transactions.create">> = {}, account = accountId) =>
  ok(
    await api.mutate("transactions.create", {
      accountId: account,
      direction: "debit",
      amount: 2_500,
      currency: "USD",
      description: "Groceries",
      category: "food",
      counterparty: "Corner shop",
      reference: "r-1",
      ...extra,
    }),
  )

const get = async (id: string) => ok(await api.query("transactions.get", { id }))
const history = async (id: string) => ok(await api.query("transactions.history", { id }))

type Op = "post" | "void" | "reverse"
const target: Record<Op, string> = { post: "posted", void: "voided", reverse: "reversed" }

/** A transaction of each start state, as it reads now. */
const starts: Record<string, () => Promise<Json>> = {
  pending: () => create({ status: "pending", expiresAt: inAnHour() }),
  posted: () => create(),
  voided: async () => {
    const held = await create({ status: "pending" })
    return ok(await api.mutate("transactions.void", { id: held.id, expectedVersion: 1 }))
  },
  reversed: async () => {
    const posted = await create()
    return ok(await api.mutate("transactions.reverse", { id: posted.id, expectedVersion: 1 }))
      .original
  },
  "a reversal": async () => {
    const posted = await create()
    return ok(await api.mutate("transactions.reverse", { id: posted.id, expectedVersion: 1 }))
      .reversal
  },
}

/** Which operations each start state allows; every other one is an InvalidStateTransition. */
const allowed: Record<string, ReadonlyArray<Op>> = {
  pending: ["post", "void"],
  posted: ["reverse"],
  voided: [],
  reversed: [],
  "a reversal": [],
}

const table = Object.keys(starts).flatMap((start) =>
  (["post", "void", "reverse"] as const).map((op) => ({
    start,
    op,
    allowed: allowed[start]!.includes(op),
  })),
)

const expectRefused = (
  response: { status: number; body: Json },
  tag: "VersionConflict" | "InvalidStateTransition",
  details: Record<string, unknown>,
) => {
  expect(response.status, JSON.stringify(response.body)).toBe(409)
  expect(response.body.error.data).toMatchObject({ tag, details })
}

describe("the transaction state machine", () => {
  it.each(table.filter((row) => row.allowed))(
    "$op on a $start transaction succeeds with the new status, version and links",
    async ({ start, op }) => {
      const before = await starts[start]!()
      const response = await api.mutate(`transactions.${op}`, {
        id: before.id,
        expectedVersion: before.version,
      })
      const answer = ok(response)
      // A reverse answers the original and its reversal; post and void answer the transaction.
      const reversal = "reversal" in answer ? answer.reversal : undefined
      const changed = "original" in answer ? answer.original : answer
      expect(reversal === undefined).toBe(op !== "reverse")
      expect(changed).toMatchObject({
        id: before.id,
        status: target[op],
        version: before.version + 1,
        amount: before.amount,
        direction: before.direction,
      })
      expect(Date.parse(changed.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt))
      if (op === "post") expect(changed.expiresAt).toBeNull()
      if (op === "void") expect(changed.expiresAt).toBe(before.expiresAt)
      if (reversal !== undefined) {
        expect(changed.reversedBy).toBe(reversal.id)
        expect(reversal).toMatchObject({
          accountId: before.accountId,
          amount: before.amount,
          currency: before.currency,
          direction: before.direction === "debit" ? "credit" : "debit",
          status: "posted",
          version: 1,
          reversalOf: before.id,
          reversedBy: null,
          expiresAt: null,
          description: `Reversal of ${before.id}`,
        })
        expect(await get(reversal.id)).toEqual(reversal)
      } else {
        expect(changed.reversedBy).toBeNull()
        expect(changed.reversalOf).toBeNull()
      }
      expect(await get(before.id)).toEqual(changed)
    },
  )

  it.each(table.filter((row) => !row.allowed))(
    "$op on a $start transaction answers 409 InvalidStateTransition and changes nothing",
    async ({ start, op }) => {
      const before = await starts[start]!()
      const events = await history(before.id)
      const response = await api.mutate(`transactions.${op}`, {
        id: before.id,
        expectedVersion: before.version,
      })
      expectRefused(response, "InvalidStateTransition", {
        id: before.id,
        from: before.status,
        to: target[op],
      })
      expect(response.body.error.message).toBe(
        start === "a reversal" && op === "reverse"
          ? `Transaction ${before.id} is itself a reversal and cannot be reversed`
          : `Transaction ${before.id} is ${before.status}; it cannot become ${target[op]}`,
      )
      expect(await get(before.id)).toEqual(before)
      expect(await history(before.id)).toEqual(events)
    },
  )

  it.each(table)(
    "$op on a $start transaction with a stale version answers VersionConflict naming the current version",
    async ({ start, op }) => {
      const before = await starts[start]!()
      for (const expectedVersion of [before.version + 1, before.version + 10]) {
        expectRefused(
          await api.mutate(`transactions.${op}`, { id: before.id, expectedVersion }),
          "VersionConflict",
          { id: before.id, expectedVersion, currentVersion: before.version },
        )
      }
      if (before.version > 1) {
        expectRefused(
          await api.mutate(`transactions.${op}`, { id: before.id, expectedVersion: 1 }),
          "VersionConflict",
          { id: before.id, expectedVersion: 1, currentVersion: before.version },
        )
      }
      expect(await get(before.id)).toEqual(before)
    },
  )

  it.each(["post", "void", "reverse"] as const)(
    "%s on an unknown transaction answers 404",
    async (op) => {
      const response = await api.mutate(`transactions.${op}`, {
        id: `txn_${"0".repeat(26)}`,
        expectedVersion: 1,
      })
      expect(response.status).toBe(404)
      expect(response.body.error.data.tag).toBe("NotFound")
    },
  )

  it("post clears expiresAt; a later stale post of the same hold is a VersionConflict", async () => {
    const held = await create({ status: "pending", expiresAt: inAnHour() })
    expect(held.expiresAt).not.toBeNull()
    const posted = ok(await api.mutate("transactions.post", { id: held.id, expectedVersion: 1 }))
    expect(posted).toMatchObject({ status: "posted", version: 2, expiresAt: null })
    expectRefused(
      await api.mutate("transactions.post", { id: held.id, expectedVersion: 1 }),
      "VersionConflict",
      { currentVersion: 2 },
    )
  })

  it("reverses with the given description", async () => {
    const posted = await create({ direction: "credit" })
    const { reversal } = ok(
      await api.mutate("transactions.reverse", {
        id: posted.id,
        expectedVersion: 1,
        description: "Refund",
      }),
    )
    expect(reversal).toMatchObject({ description: "Refund", direction: "debit" })
  })

  it("refuses a second reversal with 409 and keeps the first", async () => {
    const posted = await create()
    const first = ok(
      await api.mutate("transactions.reverse", { id: posted.id, expectedVersion: 1 }),
    )
    expectRefused(
      await api.mutate("transactions.reverse", { id: posted.id, expectedVersion: 2 }),
      "InvalidStateTransition",
      { id: posted.id, from: "reversed", to: "reversed" },
    )
    expectRefused(
      await api.mutate("transactions.reverse", { id: posted.id, expectedVersion: 1 }),
      "VersionConflict",
      { currentVersion: 2 },
    )
    expect(await get(posted.id)).toEqual(first.original)
  })
})

describe("lifecycle history", () => {
  it("records posted, voided and reversed events with the API key as actor", async () => {
    const toPost = await create({ status: "pending", expiresAt: inAnHour() })
    const toVoid = await create({ status: "pending" })
    const toReverse = await create()
    ok(await api.mutate("transactions.post", { id: toPost.id, expectedVersion: 1 }))
    ok(await api.mutate("transactions.void", { id: toVoid.id, expectedVersion: 1 }))
    const { reversal } = ok(
      await api.mutate("transactions.reverse", { id: toReverse.id, expectedVersion: 1 }),
    )

    const summary = (events: Json) => events.map((e: Json) => [e.version, e.kind, e.actor])
    const posted = await history(toPost.id)
    expect(summary(posted)).toEqual([
      [1, "created", keyId],
      [2, "posted", keyId],
    ])
    expect(posted[1]!.changes).toEqual({
      status: { from: "pending", to: "posted" },
      expiresAt: { from: expect.any(String), to: null },
    })
    expect(Date.parse(String(posted[1]!.changes.expiresAt!.from))).toBe(
      Date.parse(String(toPost.expiresAt)),
    )

    const voided = await history(toVoid.id)
    expect(summary(voided)).toEqual([
      [1, "created", keyId],
      [2, "voided", keyId],
    ])
    expect(voided[1]!.changes).toEqual({ status: { from: "pending", to: "voided" } })

    const reversed = await history(toReverse.id)
    expect(summary(reversed)).toEqual([
      [1, "created", keyId],
      [2, "reversed", keyId],
    ])
    expect(reversed[1]!.changes).toEqual({
      status: { from: "posted", to: "reversed" },
      reversedBy: { from: null, to: reversal.id },
    })
    const ofReversal = await history(reversal.id)
    expect(summary(ofReversal)).toEqual([[1, "created", keyId]])
    expect(ofReversal[0]!.changes.reversalOf).toEqual({ from: null, to: toReverse.id })
  })
})

describe("concurrent lifecycle changes", () => {
  it("post and void of one pending transaction at once: exactly one wins, the other gets VersionConflict", async () => {
    for (let round = 0; round < 5; round++) {
      const held = await create({ status: "pending", expiresAt: inAnHour() })
      const responses = await Promise.all(
        (["post", "void"] as const).map((op) =>
          api.mutate(`transactions.${op}`, { id: held.id, expectedVersion: 1 }),
        ),
      )
      const winners = responses.filter((r) => r.status === 200)
      const losers = responses.filter((r) => r.status !== 200)
      expect(winners).toHaveLength(1)
      expect(losers).toHaveLength(1)
      expectRefused(losers[0]!, "VersionConflict", { currentVersion: 2 })
      const final = await get(held.id)
      expect(final).toEqual(winners[0]!.body.result.data)
      expect(final.version).toBe(2)
      const kinds = (await history(held.id)).map((e: Json) => e.kind)
      expect(kinds).toEqual(["created", final.status])
    }
  })

  it("10 reversals of one posted transaction at once: exactly one reversal exists, the rest get 409", async () => {
    const account = ok(
      await api.mutate("accounts.create", { name: "Race", currency: "USD", allowNegative: true }),
    )
    const posted = await create({}, account.id)
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        api.mutate("transactions.reverse", { id: posted.id, expectedVersion: 1 }),
      ),
    )
    const winners = responses.filter((r) => r.status === 200)
    expect(winners).toHaveLength(1)
    for (const loser of responses.filter((r) => r.status !== 200)) {
      expect(loser.status, JSON.stringify(loser.body)).toBe(409)
      expect(loser.body.error.data.tag).toBe("VersionConflict")
    }
    const { original, reversal } = winners[0]!.body.result.data
    const listed = ok(await api.query("transactions.list", { accountId: account.id, limit: 100 }))
    expect(listed.items.map((t: Json) => t.id).sort()).toEqual([posted.id, reversal.id].sort())
    expect(listed.items.filter((t: Json) => t.reversalOf === posted.id)).toHaveLength(1)
    expect(await get(posted.id)).toEqual(original)
    expect(original).toMatchObject({ status: "reversed", version: 2, reversedBy: reversal.id })
    const kinds = (await history(posted.id)).map((e: Json) => e.kind)
    expect(kinds).toEqual(["created", "reversed"])
  })
})
