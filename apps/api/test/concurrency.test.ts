import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Input, type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

type Answer = { status: number; body: Json }
type BatchItem = Input<"transactions.createMany">["transactions"][number]

/** mulberry32: a small seeded PRNG, so the sequence of choices is the same on every run. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = 20_240_615
const ACCOUNTS = 10
const FUNDING = 100_000
const LOOPS = 50
const OPERATIONS = 2_000
const PER_LOOP = OPERATIONS / LOOPS

/** The typed refusals the test accepts; anything else (a 500, a deadlock, ...) fails it. */
const typed: Record<string, number> = {
  InsufficientFunds: 422,
  VersionConflict: 409,
  InvalidStateTransition: 409,
}

const signed = (t: Json) => (t.direction === "credit" ? t.amount : -t.amount)

const listAll = async (accountId: string) => {
  const items: Array<Json> = []
  let cursor: string | null = null
  do {
    const page: Json = ok(
      await api.query("transactions.list", {
        accountId,
        limit: 200,
        ...(cursor === null ? {} : { cursor }),
      }),
    )
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor !== null)
  return items
}

describe("proof under concurrency", () => {
  it("conserves money, never overdraws, executes each key once, and answers only 200 or typed 4xx", async () => {
    const started = Date.now()
    const accounts: Array<string> = []
    for (let i = 0; i < ACCOUNTS; i++) {
      const account = ok(
        await api.mutate("accounts.create", {
          name: `Concurrency ${i}`,
          currency: "EUR",
          allowNegative: false,
        }),
      )
      ok(
        await api.mutate("transactions.create", {
          accountId: account.id,
          direction: "credit",
          amount: FUNDING,
          currency: "EUR",
          status: "posted",
          description: "Funding",
        }),
      )
      accounts.push(account.id)
    }

    const counts: Record<string, number> = {}
    const unexpected: Array<string> = []
    /** Records every answer: counts by operation and outcome, and flags any untyped failure. */
    const record = (op: string, response: Answer): string => {
      const tag: string =
        response.status === 200 ? "ok" : (response.body?.error?.data?.tag ?? "untagged")
      const outcome = `${op}:${tag}`
      counts[outcome] = (counts[outcome] ?? 0) + 1
      if (response.status >= 500 || (response.status !== 200 && typed[tag] !== response.status)) {
        unexpected.push(`${op} ${response.status} ${JSON.stringify(response.body)}`)
      }
      return tag
    }

    /** Holds not yet known to be settled, with the version last read. */
    const holds = new Map<string, { version: number; amount: number }>()
    /** Posted non-transfer transactions that may be reversed, with the version last read. */
    const reversible = new Map<string, { version: number; signed: number }>()
    for (const id of accounts) {
      const [funding] = await listAll(id)
      reversible.set(funding.id, { version: funding.version, signed: FUNDING })
    }
    /** Per key: every 200 answer it got. */
    const transferAnswers = new Map<string, Array<Json>>()
    /** Per batch key: every 200 answer it got; and the keys whose items were counted already. */
    const batchAnswers = new Map<string, Array<Json>>()
    const countedBatches = new Set<string>()
    /** The client-side running net of posted non-transfer movements since funding. */
    let expectedNet = 0
    const staleAnswers: Array<Answer> = []

    const pickFrom = <K, V>(rand: () => number, map: Map<K, V>): [K, V] | undefined => {
      if (map.size === 0) return undefined
      const index = Math.floor(rand() * map.size)
      let i = 0
      for (const entry of map) if (i++ === index) return entry
      return undefined
    }

    const loop = async (n: number) => {
      const rand = prng(SEED + n)
      const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
      for (let i = 0; i < PER_LOOP; i++) {
        const roll = rand()
        if (roll < 0.45) {
          const from = int(0, ACCOUNTS - 1)
          const to = (from + int(1, ACCOUNTS - 1)) % ACCOUNTS
          const key = `conc-${SEED}-${n}-${i}`
          const input = {
            idempotencyKey: key,
            fromAccountId: accounts[from]!,
            toAccountId: accounts[to]!,
            amount: int(1, 5_000),
            currency: "EUR",
          }
          const resend = rand()
          const send = async () => {
            const response = await api.mutate("transfers.create", input)
            const tag = record("transfer", response)
            if (tag === "ok") {
              const answers = transferAnswers.get(key) ?? []
              answers.push(response.body.result.data)
              transferAnswers.set(key, answers)
            }
            return response
          }
          if (resend < 0.05) {
            await Promise.all([send(), send()])
          } else if (resend < 0.1) {
            const first = await send()
            const again = await send()
            if (first.status === 200) {
              expect(again.status).toBe(200)
              expect(again.body.result.data).toEqual({
                ...first.body.result.data,
                replayed: true,
              })
            }
          } else {
            await send()
          }
        } else if (roll < 0.52) {
          const key = `batch-${SEED}-${n}-${i}`
          const items = Array.from({ length: int(2, 8) }, (): BatchItem => {
            const kind = rand()
            return {
              accountId: accounts[int(0, ACCOUNTS - 1)]!,
              direction: kind < 0.25 ? "credit" : "debit",
              amount: int(1, 2_000),
              currency: "EUR",
              ...(kind >= 0.25 && kind < 0.6 ? { status: "pending" } : {}),
              description: "Batch",
            }
          })
          const input = { idempotencyKey: key, transactions: items }
          const send = async () => {
            const response = await api.mutate("transactions.createMany", input)
            if (record("batch", response) !== "ok") return
            const answer = response.body.result.data
            batchAnswers.set(key, [...(batchAnswers.get(key) ?? []), answer])
            // A replay answers the same items: count them once.
            if (countedBatches.has(key)) return
            countedBatches.add(key)
            for (const t of answer.transactions) {
              if (t.status === "pending") holds.set(t.id, { version: t.version, amount: t.amount })
              else {
                expectedNet += signed(t)
                reversible.set(t.id, { version: t.version, signed: signed(t) })
              }
            }
          }
          const resend = rand()
          if (resend < 0.1) await Promise.all([send(), send()])
          else if (resend < 0.2) {
            await send()
            await send()
          } else await send()
        } else if (roll < 0.65) {
          const amount = int(1, 3_000)
          const response = await api.mutate("transactions.create", {
            accountId: accounts[int(0, ACCOUNTS - 1)]!,
            direction: "debit",
            amount,
            currency: "EUR",
            status: "pending",
            description: "Hold",
          })
          if (record("hold", response) === "ok") {
            const held = response.body.result.data
            holds.set(held.id, { version: held.version, amount })
          }
        } else if (roll < 0.85) {
          const picked = pickFrom(rand, holds)
          const op = rand() < 0.6 ? "post" : "void"
          const stale = rand() < 0.2
          if (picked === undefined) continue
          const [id, { version, amount }] = picked
          const response = await api.mutate(`transactions.${op}`, {
            id,
            expectedVersion: stale ? version + 1_000 : version,
          })
          const tag = record(stale ? `${op}(stale)` : op, response)
          if (stale) staleAnswers.push(response)
          if (tag === "ok") {
            const settled = response.body.result.data
            holds.delete(id)
            if (op === "post") {
              expectedNet -= amount
              reversible.set(id, { version: settled.version, signed: -amount })
            }
          }
        } else {
          const picked = pickFrom(rand, reversible)
          if (picked === undefined) continue
          const [id, { version, signed: amount }] = picked
          const response = await api.mutate("transactions.reverse", {
            id,
            expectedVersion: version,
          })
          if (record("reverse", response) === "ok") {
            const { original, reversal } = response.body.result.data
            expect(original).toMatchObject({ id, status: "reversed", reversedBy: reversal.id })
            expect(reversal).toMatchObject({ status: "posted", reversalOf: id })
            expect(signed(reversal)).toBe(-amount)
            reversible.delete(id)
            expectedNet -= amount
          }
        }
      }
    }
    await Promise.all(Array.from({ length: LOOPS }, (_, n) => loop(n)))
    const loopsMs = Date.now() - started

    console.log(
      `concurrency: ${loopsMs} ms for the loops; outcomes ${JSON.stringify(
        Object.fromEntries(Object.entries(counts).sort()),
      )}`,
    )
    expect(unexpected).toEqual([])
    // The mix really exercised every path.
    expect(counts["transfer:ok"]).toBeGreaterThan(0)
    expect(counts["hold:ok"]).toBeGreaterThan(0)
    expect(counts["post:ok"]).toBeGreaterThan(0)
    expect(counts["void:ok"]).toBeGreaterThan(0)
    expect(counts["reverse:ok"]).toBeGreaterThan(0)
    expect(counts["batch:ok"]).toBeGreaterThan(0)
    // A deliberately stale version is always refused, and never applied.
    expect(staleAnswers.length).toBeGreaterThan(0)
    for (const stale of staleAnswers) {
      expect(stale.status).toBe(409)
      expect(["VersionConflict", "InvalidStateTransition"]).toContain(stale.body.error.data.tag)
      if (stale.body.error.data.tag === "VersionConflict") {
        expect(typeof stale.body.error.data.details.currentVersion).toBe("number")
      }
    }
    expect(staleAnswers.some((s) => s.body.error.data.tag === "VersionConflict")).toBe(true)

    // Final state, read through the API.
    const finals = await Promise.all(
      accounts.map(async (id) => ({
        id,
        balance: ok(await api.query("accounts.balance", { id })),
        items: await listAll(id),
      })),
    )

    // (4) each account's balance is what its transactions say, and (2) never below zero.
    for (const { id, balance, items } of finals) {
      expect(new Set(items.map((t: Json) => t.id)).size).toBe(items.length)
      for (const t of items) expect(t.accountId).toBe(id)
      const posted = items
        .filter((t: Json) => t.status === "posted" || t.status === "reversed")
        .reduce((sum: number, t: Json) => sum + signed(t), 0)
      const pendingDebits = items
        .filter((t: Json) => t.status === "pending" && t.direction === "debit")
        .reduce((sum: number, t: Json) => sum + t.amount, 0)
      expect(balance.posted, id).toBe(posted)
      expect(balance.available, id).toBe(posted - pendingDebits)
      expect(balance.available, id).toBeGreaterThanOrEqual(0)
      expect(balance.posted, id).toBeGreaterThanOrEqual(0)
    }

    // (1) money is conserved: balances agree with the ledger and with what the client did.
    const all = finals.flatMap((f) => f.items)
    const totalPosted = finals.reduce((sum, f) => sum + f.balance.posted, 0)
    const ledgerPosted = all
      .filter((t) => t.status === "posted" || t.status === "reversed")
      .reduce((sum, t) => sum + signed(t), 0)
    expect(totalPosted).toBe(ledgerPosted)
    expect(totalPosted).toBe(ACCOUNTS * FUNDING + expectedNet)

    // Transfers alone conserve money; (3) each transfer has exactly one debit and one credit leg.
    const legs = all.filter((t) => t.transferId !== null)
    expect(legs.reduce((sum, t) => sum + signed(t), 0)).toBe(0)
    const byTransfer = new Map<string, Array<Json>>()
    for (const leg of legs) {
      expect(leg.status).toBe("posted")
      expect(leg.reference).toBe(leg.transferId)
      byTransfer.set(leg.transferId, [...(byTransfer.get(leg.transferId) ?? []), leg])
    }
    for (const [transferId, pair] of byTransfer) {
      expect(pair.map((l) => l.direction).sort(), transferId).toEqual(["credit", "debit"])
      expect(pair[0].amount).toBe(pair[1].amount)
      expect(pair[0].accountId).not.toBe(pair[1].accountId)
    }

    // (3) every key executed once: all its 200s name one transfer, at most one of them fresh.
    const okIds = new Set<string>()
    for (const [key, answers] of transferAnswers) {
      const ids = new Set(answers.map((a) => a.id))
      expect(ids.size, key).toBe(1)
      expect(answers.filter((a) => a.replayed !== true).length, key).toBeLessThanOrEqual(1)
      for (const a of answers) {
        expect(a.replayed === undefined || a.replayed === true, key).toBe(true)
        const { replayed: _, ...rest } = a
        const { replayed: __, ...first } = answers[0]
        expect(rest, key).toEqual(first)
      }
      okIds.add(answers[0].id)
    }
    expect(counts["transfer:ok"]).toBeGreaterThan(okIds.size) // some replays were answered
    expect(byTransfer.size).toBe(transferAnswers.size)
    expect(new Set(byTransfer.keys())).toEqual(okIds)

    // Every batch key executed once: its 200s name the same items, at most one of them fresh,
    // and each item exists once, in its account.
    const allIds = new Set(all.map((t) => t.id))
    for (const [key, answers] of batchAnswers) {
      const idsOf = (answer: Json) => answer.transactions.map((t: Json) => t.id)
      for (const answer of answers) expect(idsOf(answer), key).toEqual(idsOf(answers[0]))
      expect(answers.filter((a) => a.replayed !== true).length, key).toBeLessThanOrEqual(1)
      for (const id of idsOf(answers[0])) expect(allIds.has(id), key).toBe(true)
    }
    expect(counts["batch:ok"]).toBeGreaterThan(batchAnswers.size) // some replays were answered

    console.log(`concurrency: ${Date.now() - started} ms in all`)
  }, 120_000)
})
