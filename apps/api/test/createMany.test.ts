import { eventually } from "@txn/testing"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createAccount, type Input, type Json, ok, startTestApi, type TestApi } from "./harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

let counter = 0
const newKey = () => `batch-${Date.now()}-${++counter}`

const newAccount = (options: { allowNegative?: boolean; currency?: string } = {}) =>
  createAccount(api, {
    name: "Batch",
    currency: options.currency ?? "EUR",
    allowNegative: options.allowNegative ?? false,
  })

const balance = async (id: string) => ok(await api.query("accounts.balance", { id }))

const listIds = async (accountId: string) =>
  ok(await api.query("transactions.list", { accountId, limit: 200 })).items.map((t: Json) => t.id)

/** What the database holds for these transactions: rows, history, ledger entries, webhook events. */
const written = async (ids: ReadonlyArray<string>) => {
  const [row] = await api.runtime.runPromise(
    SqlClient.SqlClient.use(
      (sql) => sql<Record<string, string>>`
        select
          (select count(*)::text from transactions where id in ${sql.in(ids)}) as transactions,
          (select count(*)::text from transaction_events
            where kind = 'created' and transaction_id in ${sql.in(ids)}) as events,
          (select count(*)::text from ledger_entries where transaction_id in ${sql.in(ids)}) as entries,
          (select count(*)::text from events where type = 'transaction.created'
            and data->'transaction'->>'id' in ${sql.in(ids)}) as outbox`,
    ),
  )
  return row!
}

type Item = Input<"transactions.createMany">["transactions"][number]

const item = (accountId: string, extra: Partial<Item> = {}): Item => ({
  accountId,
  direction: "debit",
  amount: 100,
  currency: "EUR",
  ...extra,
})

const inAnHour = () => new Date(Date.now() + 60 * 60 * 1000).toISOString()

describe("transactions.createMany", () => {
  it("records 1,000 mixed items with exact balances, events, ledger and outbox rows, in input order", async () => {
    const accounts = [
      await newAccount(),
      await newAccount(),
      await newAccount(),
      await newAccount(),
    ]
    const expected = accounts.map(() => ({ posted: 0, pendingCredits: 0, pendingDebits: 0 }))
    const items = Array.from({ length: 1000 }, (_, i) => {
      const a = i % 4
      const accountId = accounts[a]!.id
      const shape = i < 4 ? 0 : i % 5
      const amount = 1 + ((i * 7919) % 997)
      const e = expected[a]!
      if (shape === 0) {
        e.posted += i < 4 ? 1_000_000 : amount
        return item(accountId, {
          direction: "credit",
          amount: i < 4 ? 1_000_000 : amount,
          description: `item ${i}`,
        })
      }
      if (shape === 1 || shape === 2) {
        e.posted -= amount
        return item(accountId, { amount, description: `item ${i}`, metadata: { i: String(i) } })
      }
      if (shape === 3) {
        e.pendingDebits += amount
        return item(accountId, {
          amount,
          status: "pending",
          expiresAt: inAnHour(),
          description: `item ${i}`,
        })
      }
      e.pendingCredits += amount
      return item(accountId, {
        direction: "credit",
        amount,
        status: "pending",
        description: `item ${i}`,
      })
    })
    const result = ok(await api.mutate("transactions.createMany", { transactions: items }))
    expect(result.replayed).toBeUndefined()
    expect(result.transactions).toHaveLength(1000)
    expect(result.transactions.map((t: Json) => t.description)).toEqual(
      items.map((i) => i.description),
    )
    result.transactions.forEach((t: Json, i: number) => {
      expect(t).toMatchObject({
        accountId: items[i]!.accountId,
        amount: items[i]!.amount,
        direction: items[i]!.direction,
        status: items[i]!.status ?? "posted",
        version: 1,
      })
    })
    const ids: Array<string> = result.transactions.map((t: Json) => t.id)
    expect(new Set(ids).size).toBe(1000)
    expect(await written(ids)).toEqual({
      transactions: "1000",
      events: "1000",
      entries: "1000",
      outbox: "1000",
    })
    // History and the change feed follow the input order, and so do the webhooks' events.
    const events = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly id: string }>`
          select transaction_id as id from transaction_events
           where kind = 'created' and transaction_id in ${sql.in(ids)} order by seq`,
      ),
    )
    expect(events.map((e) => e.id)).toEqual(ids)
    const outbox = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly id: string }>`
          select data->'transaction'->>'id' as id from events
           where type = 'transaction.created' and data->'transaction'->>'id' in ${sql.in(ids)}
           order by events.id`,
      ),
    )
    expect(outbox.map((e) => e.id)).toEqual(ids)
    for (const [a, account] of accounts.entries()) {
      const e = expected[a]!
      expect(await balance(account.id)).toMatchObject({
        posted: e.posted,
        pending: e.posted + e.pendingCredits - e.pendingDebits,
        available: e.posted - e.pendingDebits,
      })
    }
    // The change feed pages through every item's `created` event, in the order sent. It shows a
    // change once every older database transaction has ended, so other test files writing at
    // the same moment can hold it back for a little while: read it again until it has caught up.
    const readFeed = async () => {
      const feed: Array<string> = []
      let cursor: string | undefined
      for (let page = 0; page < 20; page++) {
        const changes = ok(
          await api.query("transactions.changes", {
            limit: 200,
            ...(cursor === undefined ? {} : { cursor }),
          }),
        )
        for (const event of changes.items) {
          if (event.kind === "created" && ids.includes(event.transactionId)) {
            feed.push(event.transactionId)
          }
        }
        cursor = changes.nextCursor ?? undefined
        if (!changes.hasMore) break
      }
      return feed
    }
    const feed = await eventually(
      async () => {
        const read = await readFeed()
        return read.length < ids.length ? undefined : read
      },
      { what: "the change feed to show every item" },
    )
    expect(feed).toEqual(ids)
    const history = ok(await api.query("transactions.history", { id: ids[999]! }))
    expect(history).toHaveLength(1)
    expect(history[0]).toMatchObject({ kind: "created", version: 1 })
  })

  for (const index of [0, 500, 999]) {
    it(`refuses the whole batch for a bad item at index ${index}, naming it, and writes nothing`, async () => {
      const account = await newAccount({ allowNegative: true })
      const items = Array.from({ length: 1000 }, () => item(account.id))
      const schemaBad = items.map((x, i) => (i === index ? { ...x, amount: -5 } : x))
      const invalid = await api.mutate("transactions.createMany", { transactions: schemaBad })
      expect(invalid.status).toBe(400)
      expect(invalid.body.error.data.tag).toBe("ValidationError")
      expect(invalid.body.error.data.issues.map((i: Json) => i.path)).toEqual([
        ["transactions", index, "amount"],
      ])

      const stranger = `acc_${"0".repeat(26)}`
      const missing = items.map((x, i) => (i === index ? { ...x, accountId: stranger } : x))
      const refused = await api.mutate("transactions.createMany", { transactions: missing })
      expect(refused.status).toBe(404)
      expect(refused.body.error.data).toMatchObject({
        tag: "NotFound",
        details: {
          resource: "account",
          id: stranger,
          index,
          field: "accountId",
          failures: [{ index, field: "accountId", tag: "NotFound" }],
        },
      })
      expect(refused.body.error.message).toContain(`transactions.${index}.accountId`)
      expect(await listIds(account.id)).toEqual([])
      expect(await balance(account.id)).toMatchObject({ posted: 0, pending: 0, available: 0 })
    })
  }

  it("stores free text and metadata exactly as sent, whatever characters they hold", async () => {
    const account = await newAccount({ allowNegative: true })
    const texts = [
      'a "quoted" word',
      'back\\slash \\" and \\N',
      "NULL",
      "{braces,commas}",
      "  spaces around  ",
      "",
      "line\nbreak\ttab",
      "ünïcödé ✓ 𝄞",
      "'single' ; -- quotes",
    ]
    const items = texts.map((text, i) =>
      item(account.id, {
        description: text,
        ...(i % 2 === 0 ? { counterparty: text, reference: text } : {}),
        // Another offset, read back in UTC: the answer is the stored row.
        ...(i === 0 ? { occurredAt: "2026-01-02T03:04:05.678+02:00" } : {}),
        metadata: { text, nested: `{"${text}"}`, nul: "NULL" },
      }),
    )
    const created = ok(
      await api.mutate("transactions.createMany", {
        idempotencyKey: newKey(),
        transactions: items,
      }),
    ).transactions
    expect(created).toHaveLength(texts.length)
    expect(created[0]!.occurredAt).toBe("2026-01-02T01:04:05.678Z")
    for (const [i, text] of texts.entries()) {
      const stored = ok(await api.query("transactions.get", { id: created[i]!.id }))
      expect(stored.description).toBe(text)
      expect(stored.counterparty).toBe(i % 2 === 0 ? text : null)
      expect(stored.reference).toBe(i % 2 === 0 ? text : null)
      expect(stored.category).toBeNull()
      expect(stored.metadata).toEqual({ text, nested: `{"${text}"}`, nul: "NULL" })
      expect(created[i]).toEqual(stored)
    }
    // Each `created` event carries the same values.
    const events = await api.runtime.runPromise(
      SqlClient.SqlClient.use(
        (sql) => sql<{ readonly description: string; readonly metadata: unknown }>`
          select changes->'description'->>'to' as description, changes->'metadata'->'to' as metadata
            from transaction_events
           where kind = 'created' and transaction_id in ${sql.in(created.map((t: Json) => t.id))}
           order by seq`,
      ),
    )
    expect(events.map((e) => e.description)).toEqual(texts)
    expect(events.map((e) => e.metadata)).toEqual(
      texts.map((text) => ({ text, nested: `{"${text}"}`, nul: "NULL" })),
    )
  })

  it("names every item in another currency, with the first one's status and details", async () => {
    const account = await newAccount({ allowNegative: true })
    const response = await api.mutate("transactions.createMany", {
      transactions: [
        item(account.id),
        item(account.id, { currency: "USD" }),
        item(account.id),
        item(account.id, { currency: "GBP" }),
      ],
    })
    expect(response.status).toBe(422)
    expect(response.body.error.data).toMatchObject({
      tag: "CurrencyMismatch",
      details: {
        accountCurrency: "EUR",
        currency: "USD",
        index: 1,
        field: "currency",
        failures: [
          { index: 1, field: "currency", tag: "CurrencyMismatch" },
          { index: 3, field: "currency", tag: "CurrencyMismatch" },
        ],
      },
    })
    expect(await listIds(account.id)).toEqual([])
  })

  it("refuses debits that fit alone but not together, naming the items past the funds", async () => {
    const account = await newAccount()
    ok(
      await api.mutate("transactions.create", {
        accountId: account.id,
        direction: "credit",
        amount: 1_000,
        currency: "EUR",
      }),
    )
    const response = await api.mutate("transactions.createMany", {
      transactions: [
        item(account.id, { amount: 600 }),
        item(account.id, { amount: 300 }),
        item(account.id, { amount: 600 }),
        item(account.id, { amount: 100, status: "pending" }),
        item(account.id, { amount: 200 }),
      ],
    })
    expect(response.status).toBe(422)
    expect(response.body.error.data).toMatchObject({
      tag: "InsufficientFunds",
      details: {
        accountId: account.id,
        available: 100,
        requested: 600,
        index: 2,
        field: "amount",
        failures: [
          { index: 2, field: "amount", tag: "InsufficientFunds" },
          { index: 4, field: "amount", tag: "InsufficientFunds" },
        ],
      },
    })
    expect(await listIds(account.id)).toHaveLength(1)
    expect(await balance(account.id)).toMatchObject({ posted: 1_000, available: 1_000 })
  })

  it("answers a retry with the same key and body with the first result, marked as a replay", async () => {
    const account = await newAccount({ allowNegative: true })
    const input = {
      idempotencyKey: newKey(),
      transactions: [item(account.id), item(account.id, { amount: 5, direction: "credit" })],
    }
    const first = ok(await api.mutate("transactions.createMany", input))
    expect(first.replayed).toBeUndefined()
    const again = ok(await api.mutate("transactions.createMany", input))
    expect(again).toEqual({ ...first, replayed: true })
    expect(await listIds(account.id)).toHaveLength(2)

    const changed = await api.mutate("transactions.createMany", {
      ...input,
      transactions: [item(account.id, { amount: 101 })],
    })
    expect(changed.status).toBe(422)
    expect(changed.body.error.data.tag).toBe("IdempotencyKeyReused")
    // A single create is another operation: the batch's key is not its key.
    const single = await api.mutate("transactions.create", {
      idempotencyKey: input.idempotencyKey,
      ...item(account.id),
    })
    expect(single.status).toBe(422)
    expect(single.body.error.data.tag).toBe("IdempotencyKeyReused")
    expect(await balance(account.id)).toMatchObject({ posted: -95 })
  })

  it("executes concurrent batches with the same key once", async () => {
    const account = await newAccount({ allowNegative: true })
    const input = {
      idempotencyKey: newKey(),
      transactions: Array.from({ length: 200 }, (_, i) => item(account.id, { amount: i + 1 })),
    }
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api.mutate("transactions.createMany", input)),
    )
    const results = answers.map(ok)
    expect(results.filter((r) => r.replayed !== true)).toHaveLength(1)
    const ids = results[0]!.transactions.map((t: Json) => t.id)
    for (const r of results) expect(r.transactions.map((t: Json) => t.id)).toEqual(ids)
    expect(await written(ids)).toEqual({
      transactions: "200",
      events: "200",
      entries: "200",
      outbox: "200",
    })
    expect(await balance(account.id)).toMatchObject({ posted: -((200 * 201) / 2) })
  })

  it("answers another user's account as not found and writes nothing for either user", async () => {
    const mine = await newAccount({ allowNegative: true })
    const other = await api.newUser()
    const theirs = ok(
      await api
        .as(other.key)
        .mutate("accounts.create", { name: "Theirs", currency: "EUR", allowNegative: true }),
    )
    const response = await api.mutate("transactions.createMany", {
      transactions: [item(mine.id), item(theirs.id)],
    })
    expect(response.status).toBe(404)
    expect(response.body.error.data).toMatchObject({
      tag: "NotFound",
      details: { resource: "account", id: theirs.id, index: 1, field: "accountId" },
    })
    expect(await listIds(mine.id)).toEqual([])
    const theirList = ok(
      await api.as(other.key).query("transactions.list", { accountId: theirs.id }),
    )
    expect(theirList.items).toEqual([])
  })

  it("refuses 1,001 items with a 400 naming the limit, and an empty batch", async () => {
    const account = await newAccount({ allowNegative: true })
    const tooMany = await api.mutate("transactions.createMany", {
      transactions: Array.from({ length: 1001 }, () => item(account.id)),
    })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error.data.tag).toBe("ValidationError")
    expect(tooMany.body.error.data.issues).toEqual([
      { path: ["transactions"], message: "Expected at most 1000 transactions in one batch" },
    ])
    const empty = await api.mutate("transactions.createMany", { transactions: [] })
    expect(empty.status).toBe(400)
    expect(empty.body.error.data.issues).toEqual([
      { path: ["transactions"], message: "Expected at least 1 transaction" },
    ])
    expect(await listIds(account.id)).toEqual([])
  })
})
