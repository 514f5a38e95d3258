import { PgExportBuilder } from "@txn/db"
import { type ExportId, makeId } from "@txn/domain"
import { eventually } from "@txn/testing"
import { parse } from "csv-parse/sync"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { appRouter } from "../src/router.ts"
import type { ProcedureMeta } from "../src/trpc.ts"
import { createAccount, type Input, type Json, ok, startTestApi, type TestApi } from "./harness.ts"
import { openSse } from "./sse.ts"

/**
 * User A owns an account with posted and pending transactions; user B, with a key holding every
 * scope, tries each user procedure on A's objects. B must learn nothing, not even that they exist.
 */
let api: TestApi
let b: { userId: string; key: string }

interface Owned {
  readonly account: Json
  readonly posted: Json
  readonly pending: Json
  /** A's transactions of that account, as A lists them. */
  readonly listed: Json
  /** A's balance of that account, as A reads it. */
  readonly balance: Json
  /** A's transfer between two more accounts of A, and what A sees of those. */
  readonly transfer: Json
  readonly savings: Json
  readonly spare: Json
  readonly others: Json
}
let a: Owned
/** B's own account and transaction, so B's lists are not empty for want of data. */
let own: { account: Json; transaction: Json }

const asA = () => api.as(api.key)
const asB = () => api.as(b.key)
/** B's call with input no procedure accepts (a field smuggled in), so it goes out untyped. */
const asBUntyped = (path: string, input: unknown) => api.call(path, input, { auth: b.key })

const transaction = (
  accountId: string,
  extra: Partial<Input<"transactions.create">> = {},
): Input<"transactions.create"> => ({
  accountId,
  direction: "debit",
  amount: 700,
  currency: "USD",
  description: "A's rent",
  ...extra,
})

/** What A sees of its own objects right now. */
const snapshot = async () => ({
  account: ok(await asA().query("accounts.get", { id: a.account.id })),
  posted: ok(await asA().query("transactions.get", { id: a.posted.id })),
  pending: ok(await asA().query("transactions.get", { id: a.pending.id })),
  listed: ok(await asA().query("transactions.list", { accountId: a.account.id, limit: 200 })),
  balance: ok(await asA().query("accounts.balance", { id: a.account.id })),
  transfer: ok(await asA().query("transfers.get", { id: a.transfer.id })),
  others: await othersOf(a.savings.id, a.spare.id),
})

/** Balances and transaction lists of A's transfer accounts. */
const othersOf = async (...ids: Array<string>) =>
  Promise.all(
    ids.map(async (id) => ({
      balance: ok(await asA().query("accounts.balance", { id })),
      listed: ok(await asA().query("transactions.list", { accountId: id, limit: 200 })),
    })),
  )

const expectUnchanged = async () => {
  expect(await snapshot()).toEqual({
    account: a.account,
    posted: a.posted,
    pending: a.pending,
    listed: a.listed,
    balance: a.balance,
    transfer: a.transfer,
    others: a.others,
  })
}

/** The answer without what differs by request (its id) and with `id` replaced by a placeholder. */
const normalized = (body: Json, id: string) => {
  const text = JSON.stringify(body).replaceAll(id, "<id>")
  const parsed = JSON.parse(text)
  delete parsed.error?.data?.requestId
  return parsed
}

/**
 * A's object answers exactly as one that never existed: same status, tag, message and fields,
 * but for the id itself. Anything else would tell B the id is real.
 */
const expectSameAsMissing = async (
  call: (id: string) => Promise<{ status: number; body: Json }>,
  foreignId: string,
  prefix: "acc" | "txn" | "trf" | "exp" | "whk",
) => {
  const missingId = makeId(prefix)
  const [foreign, missing] = [await call(foreignId), await call(missingId)]
  expect(missing.status).toBe(404)
  expect(missing.body.error.data.tag).toBe("NotFound")
  expect(foreign.status).toBe(missing.status)
  expect(foreign.body.error.data.tag).toBe(missing.body.error.data.tag)
  expect(foreign.body.error.message.replaceAll(foreignId, "<id>")).toBe(
    missing.body.error.message.replaceAll(missingId, "<id>"),
  )
  expect(normalized(foreign.body, foreignId)).toEqual(normalized(missing.body, missingId))
}

const idsOf = (page: Json): Array<string> => page.items.map((item: { id: string }) => item.id)

const downloadAs = (key: string, id: string) =>
  fetch(`${api.url}/v1/exports/${id}/download`, { headers: { authorization: `Bearer ${key}` } })

/** The transaction ids in an export's CSV, as `key` downloads it. */
const downloadedIds = async (id: string, key: string) => {
  const response = await downloadAs(key, id)
  expect(response.status).toBe(200)
  const records = parse(await response.text(), { columns: true }) as Array<{ id: string }>
  return records.map((record) => record.id)
}

/** Every page of a list, as B. */
const listAllAsB = async (
  path: "accounts.list" | "transactions.list" | "webhooks.list",
  input: Record<string, unknown> = {},
) => {
  const ids: Array<string> = []
  let cursor: string | undefined
  for (;;) {
    const page = ok(
      await asB().query(path, {
        ...input,
        limit: 200,
        ...(cursor === undefined ? {} : { cursor }),
      }),
    )
    ids.push(...idsOf(page))
    if (!page.hasMore) return ids
    cursor = page.nextCursor ?? undefined
  }
}

/** One case per user procedure: what B is refused, and that A's data stays as it was. */
const cases: Record<string, { readonly sees: string; readonly check: () => Promise<void> }> = {
  "accounts.create": {
    sees: "another user cannot create an account for A (a userId is refused); theirs stays theirs",
    check: async () => {
      const smuggled = await asBUntyped("accounts.create", {
        name: "Mine now",
        currency: "USD",
        userId: api.userId,
      })
      expect(smuggled.status).toBe(400)
      expect(smuggled.body.error.data.issues).toContainEqual({
        path: ["userId"],
        message: "Expected no excess property",
      })
      const created = ok(await asB().mutate("accounts.create", { name: "B's", currency: "USD" }))
      expect(created.userId).toBe(b.userId)
      const aGets = await asA().query("accounts.get", { id: created.id })
      expect(aGets.status).toBe(404)
      expect(idsOf(ok(await asA().query("accounts.list", { limit: 200 })))).not.toContain(
        created.id,
      )
      await expectUnchanged()
    },
  },
  "accounts.get": {
    sees: "A's account answers another user 404, exactly as an account that never existed",
    check: async () => {
      await expectSameAsMissing((id) => asB().query("accounts.get", { id }), a.account.id, "acc")
    },
  },
  "accounts.update": {
    sees: "A's account answers another user's update 404, exactly as one that never existed; it stays unchanged",
    check: async () => {
      for (const change of [
        { name: "Hijacked" },
        { allowNegative: true },
        { metadata: { x: "y" } },
      ]) {
        await expectSameAsMissing(
          (id) => asB().mutate("accounts.update", { id, ...change }),
          a.account.id,
          "acc",
        )
      }
      await expectUnchanged()
    },
  },
  "accounts.balance": {
    sees: "A's account balance answers another user 404, exactly as an account that never existed, with or without asOf",
    check: async () => {
      for (const extra of [{}, { asOf: new Date().toISOString() }]) {
        await expectSameAsMissing(
          (id) => asB().query("accounts.balance", { id, ...extra }),
          a.account.id,
          "acc",
        )
      }
      await expectUnchanged()
    },
  },
  "accounts.list": {
    sees: "another user lists only their own accounts, with or without a currency filter",
    check: async () => {
      for (const filter of [{}, { currency: "USD" }]) {
        const ids = await listAllAsB("accounts.list", filter)
        expect(ids).toContain(own.account.id)
        expect(ids).not.toContain(a.account.id)
      }
    },
  },
  "transactions.create": {
    sees: "another user gets 404 on A's account, exactly as on one that never existed; A's data is unchanged",
    check: async () => {
      for (const extra of [{}, { status: "pending" }, { direction: "credit" }] as const) {
        await expectSameAsMissing(
          (accountId) => asB().mutate("transactions.create", transaction(accountId, extra)),
          a.account.id,
          "acc",
        )
      }
      // A wrong currency must not reveal A's account either (a CurrencyMismatch would).
      await expectSameAsMissing(
        (accountId) =>
          asB().mutate("transactions.create", transaction(accountId, { currency: "EUR" })),
        a.account.id,
        "acc",
      )
      await expectUnchanged()
    },
  },
  "transactions.createMany": {
    sees: "a batch naming A's account gets 404 for that item, exactly as for one that never existed; nothing of the batch is written",
    check: async () => {
      const before = await listAllAsB("transactions.list", { accountId: own.account.id })
      for (const extra of [{}, { currency: "EUR" }, { status: "pending" }] as const) {
        await expectSameAsMissing(
          (accountId) =>
            asB().mutate("transactions.createMany", {
              transactions: [
                transaction(own.account.id, { direction: "credit" }),
                transaction(accountId, extra),
              ],
            }),
          a.account.id,
          "acc",
        )
      }
      expect(await listAllAsB("transactions.list", { accountId: own.account.id })).toEqual(before)
      await expectUnchanged()
    },
  },
  "transactions.get": {
    sees: "A's posted and pending transactions answer another user 404, exactly as ones that never existed",
    check: async () => {
      for (const id of [a.posted.id, a.pending.id]) {
        await expectSameAsMissing((tid) => asB().query("transactions.get", { id: tid }), id, "txn")
      }
    },
  },
  "transactions.list": {
    sees: "another user lists only their own transactions, even filtered by A's account, status or text",
    check: async () => {
      const foreign = [a.posted.id, a.pending.id]
      for (const filter of [
        {},
        { status: "pending" },
        { status: "posted" },
        { direction: "debit" },
        { search: "rent" },
        { minAmount: 700, maxAmount: 700 },
      ]) {
        const ids = await listAllAsB("transactions.list", filter)
        for (const id of foreign) expect(ids).not.toContain(id)
      }
      expect(await listAllAsB("transactions.list")).toContain(own.transaction.id)
      const byAccount = ok(
        await asB().query("transactions.list", { accountId: a.account.id, limit: 200 }),
      )
      expect(byAccount).toEqual({ items: [], nextCursor: null, hasMore: false })
    },
  },
  "transactions.history": {
    sees: "A's transactions answer another user's history 404, exactly as ones that never existed",
    check: async () => {
      for (const id of [a.posted.id, a.pending.id]) {
        await expectSameAsMissing(
          (tid) => asB().query("transactions.history", { id: tid }),
          id,
          "txn",
        )
      }
    },
  },
  "transactions.changes": {
    sees: "another user's change feed holds only their own transactions' events",
    check: async () => {
      const readAll = async () => {
        const ids: Array<string> = []
        let cursor: string | undefined
        for (;;) {
          const page = ok(
            await asB().query("transactions.changes", {
              limit: 200,
              ...(cursor === undefined ? {} : { cursor }),
            }),
          )
          ids.push(...page.items.map((e: Json) => e.transactionId))
          if (!page.hasMore) return ids
          cursor = page.nextCursor ?? undefined
        }
      }
      // The feed holds events back while older database transactions are still running.
      const seen = await eventually(async () => {
        const ids = await readAll()
        return ids.includes(own.transaction.id) ? ids : undefined
      })
      expect(seen).not.toContain(a.posted.id)
      expect(seen).not.toContain(a.pending.id)
      expect(new Set(seen)).toEqual(new Set([own.transaction.id]))
    },
  },
  "transactions.live": {
    sees: "A's account answers another user's live stream 404 as a missing one, and B's stream carries none of A's changes",
    check: async () => {
      const live = (key: string, input: Record<string, unknown>) =>
        openSse(
          `${api.url}/trpc/transactions.live?input=${encodeURIComponent(JSON.stringify(input))}`,
          { authorization: `Bearer ${key}` },
        )
      const refusalFor = async (accountId: string) => {
        const stream = await live(b.key, { accountId })
        const [error] = await stream.take(1, "serialized-error")
        stream.close()
        return JSON.parse(error!.data) as Json
      }
      const missingId = makeId("acc")
      const [foreign, missing] = [await refusalFor(a.account.id), await refusalFor(missingId)]
      expect(missing.data.tag).toBe("NotFound")
      expect(foreign.message.replaceAll(a.account.id, "<id>")).toBe(
        missing.message.replaceAll(missingId, "<id>"),
      )
      expect(foreign.data.tag).toBe(missing.data.tag)

      // A third user's own stream (B's data stays as the other checks expect): its changes,
      // never one on A's account.
      const c = await api.newUser()
      const cAccount = ok(
        await api.as(c.key).mutate("accounts.create", {
          name: "C",
          currency: "USD",
          allowNegative: true,
        }),
      )
      const stream = await live(c.key, {})
      await stream.take(1, "connected")
      const mine = ok(await api.as(c.key).mutate("transactions.create", transaction(cAccount.id)))
      const seen: Array<Json> = []
      while (!seen.some((change) => change.transactionId === mine.id)) {
        const [event] = await stream.take(1)
        if (event === undefined) break
        seen.push(JSON.parse(event.data))
      }
      stream.close()
      expect(seen.map((change) => change.transactionId)).toContain(mine.id)
      expect(seen.filter((change) => change.accountId === a.account.id)).toEqual([])
    },
  },
  "transactions.summary": {
    sees: "another user's summary counts only their own money, and nothing under A's account",
    check: async () => {
      const range = { occurredFrom: "2000-01-01T00:00:00Z", occurredTo: "2100-01-01T00:00:00Z" }
      for (const groupBy of ["category", "day", "month"] as const) {
        const mine = ok(await asB().query("transactions.summary", { ...range, groupBy }))
        // B has exactly one posted transaction of its own: A's posted one must not be counted.
        expect(mine.groups.map((g: Json) => [g.count, g.debits])).toEqual([
          [1, own.transaction.amount],
        ])
        const underA = ok(
          await asB().query("transactions.summary", { ...range, groupBy, accountId: a.account.id }),
        )
        expect(underA.groups).toEqual([])
      }
    },
  },
  "transactions.update": {
    sees: "A's transactions answer another user's update 404, exactly as ones that never existed; they stay unchanged",
    check: async () => {
      for (const { id, version } of [a.posted, a.pending]) {
        // The right version and a stale one: a VersionConflict would confirm the id exists.
        for (const expectedVersion of [version, version + 5]) {
          await expectSameAsMissing(
            (tid) =>
              asB().mutate("transactions.update", {
                id: tid,
                expectedVersion,
                description: "Taken over by B",
                metadata: { owner: "B" },
              }),
            id,
            "txn",
          )
        }
      }
      await expectUnchanged()
    },
  },
  "transfers.create": {
    sees: "A's accounts, as source or target, answer another user 404 exactly as ones that never existed; A's data is unchanged",
    check: async () => {
      const create = (fromAccountId: string, toAccountId: string, extra = {}) =>
        asB().mutate("transfers.create", {
          fromAccountId,
          toAccountId,
          amount: 100,
          currency: "USD",
          description: "Taken by B",
          ...extra,
        })
      for (const foreign of [a.account.id, a.savings.id, a.spare.id]) {
        // As source (A's account holds enough: a 422 or a success would tell B it exists).
        await expectSameAsMissing((id) => create(id, own.account.id), foreign, "acc")
        // As target, from B's own account.
        await expectSameAsMissing((id) => create(own.account.id, id), foreign, "acc")
        // A wrong currency must not reveal it either (a CurrencyMismatch would).
        await expectSameAsMissing(
          (id) => create(id, own.account.id, { currency: "EUR" }),
          foreign,
          "acc",
        )
      }
      // Both of A's accounts: still 404, exactly as two that never existed.
      const missingTo = makeId("acc")
      await expectSameAsMissing(
        (id) => create(id, id === a.savings.id ? a.spare.id : missingTo),
        a.savings.id,
        "acc",
      )
      await expectUnchanged()
    },
  },
  "transfers.get": {
    sees: "A's transfer answers another user 404, exactly as a transfer that never existed",
    check: async () => {
      await expectSameAsMissing((id) => asB().query("transfers.get", { id }), a.transfer.id, "trf")
      await expectUnchanged()
    },
  },
  "exports.create": {
    sees: "another user's export holds only their own rows, even filtered by A's account or text; a userId is refused",
    check: async () => {
      const smuggled = await asBUntyped("exports.create", { userId: api.userId })
      expect(smuggled.status).toBe(400)
      expect(smuggled.body.error.data.issues).toContainEqual({
        path: ["userId"],
        message: "Expected no excess property",
      })
      const foreign = [a.posted.id, a.pending.id, a.transfer.debitTransactionId]
      for (const filters of [
        {},
        { accountId: a.account.id },
        { search: "rent" },
        { status: "pending" },
      ] as const) {
        const created = ok(await asB().mutate("exports.create", filters))
        await api.runtime.runPromise(PgExportBuilder.build(created.id as ExportId))
        const ids = (await downloadedIds(created.id, b.key)).sort()
        for (const id of foreign) expect(ids).not.toContain(id)
        if (Object.keys(filters).length === 0) expect(ids).toEqual([own.transaction.id])
        if ("accountId" in filters) expect(ids).toEqual([])
        expect((await asA().query("exports.get", { id: created.id })).status).toBe(404)
      }
      await expectUnchanged()
    },
  },
  "exports.get": {
    sees: "A's export answers another user 404 on get and on download, exactly as one that never existed",
    check: async () => {
      const created = ok(await asA().mutate("exports.create", { accountId: a.account.id }))
      await api.runtime.runPromise(PgExportBuilder.build(created.id as ExportId))
      const completed = ok(await asA().query("exports.get", { id: created.id }))
      expect(completed.status).toBe("completed")
      await expectSameAsMissing((id) => asB().query("exports.get", { id }), created.id, "exp")
      const missingId = makeId("exp")
      const [foreign, missing] = [
        await downloadAs(b.key, created.id),
        await downloadAs(b.key, missingId),
      ]
      expect([foreign.status, missing.status]).toEqual([404, 404])
      const body = async (response: Response, id: string) => {
        const { requestId: _, ...error } = ((await response.json()) as Json).error
        return JSON.parse(JSON.stringify(error).replaceAll(id, "<id>"))
      }
      expect(await body(foreign, created.id)).toEqual(await body(missing, missingId))
      expect(ok(await asA().query("exports.get", { id: created.id }))).toEqual(completed)
      expect(await downloadedIds(created.id, api.key)).toEqual(idsOf(a.listed))
    },
  },
  "webhooks.create": {
    sees: "a webhook B creates is B's alone: not in A's list, and a userId in the input is refused",
    check: async () => {
      const smuggled = await asBUntyped("webhooks.create", {
        url: "https://b.example/hooks",
        eventTypes: ["*"],
        userId: api.userId,
      })
      expect(smuggled.status).toBe(400)
      const created = ok(
        await asB().mutate("webhooks.create", {
          url: "https://b.example/hooks",
          eventTypes: ["*"],
        }),
      )
      expect(idsOf(ok(await asA().query("webhooks.list", { limit: 200 })))).not.toContain(
        created.id,
      )
      expect(idsOf(ok(await asB().query("webhooks.list", { limit: 200 })))).toContain(created.id)
    },
  },
  "webhooks.list": {
    sees: "B's list of webhooks never holds A's",
    check: async () => {
      const created = ok(
        await asA().mutate("webhooks.create", {
          url: "https://a.example/hooks",
          eventTypes: ["*"],
        }),
      )
      expect(await listAllAsB("webhooks.list")).not.toContain(created.id)
    },
  },
  "webhooks.update": {
    sees: "B updating A's webhook answers exactly as a missing one, and A's stays as it was",
    check: async () => {
      const created = ok(
        await asA().mutate("webhooks.create", { url: "https://a.example/same", eventTypes: ["*"] }),
      )
      const { secret: _, ...before } = created
      await expectSameAsMissing(
        (id) =>
          asB().mutate("webhooks.update", {
            id,
            url: "https://b.example/stolen",
            status: "disabled",
          }),
        created.id,
        "whk",
      )
      const listed = ok(await asA().query("webhooks.list", { limit: 200 }))
      expect(listed.items.find((w: Json) => w.id === created.id)).toEqual(before)
    },
  },
  "webhooks.delete": {
    sees: "B deleting A's webhook answers exactly as a missing one, and A's stays",
    check: async () => {
      const created = ok(
        await asA().mutate("webhooks.create", { url: "https://a.example/kept", eventTypes: ["*"] }),
      )
      await expectSameAsMissing((id) => asB().mutate("webhooks.delete", { id }), created.id, "whk")
      expect(idsOf(ok(await asA().query("webhooks.list", { limit: 200 })))).toContain(created.id)
    },
  },
  "webhooks.deliveries": {
    sees: "B reading the delivery log of A's webhook answers exactly as a missing one",
    check: async () => {
      const created = ok(
        await asA().mutate("webhooks.create", { url: "https://a.example/log", eventTypes: ["*"] }),
      )
      await expectSameAsMissing(
        (id) => asB().query("webhooks.deliveries", { id }),
        created.id,
        "whk",
      )
    },
  },
  "tokens.create": {
    sees: "B cannot mint a token for A's account (404, exactly as a missing one), and B's token sees nothing of A",
    check: async () => {
      await expectSameAsMissing(
        (id) => asB().mutate("tokens.create", { scopes: ["read"], accountIds: [id] }),
        a.account.id,
        "acc",
      )
      const token = ok(await asB().mutate("tokens.create", { scopes: ["read", "write"] })).token
      const browser = api.as(token)
      await expectSameAsMissing((id) => browser.query("accounts.get", { id }), a.account.id, "acc")
      await expectSameAsMissing(
        (id) => browser.query("transactions.get", { id }),
        a.posted.id,
        "txn",
      )
      expect(idsOf(ok(await browser.query("accounts.list", { limit: 200 })))).not.toContain(
        a.account.id,
      )
      await expectUnchanged()
    },
  },
  ...Object.fromEntries(
    (["post", "void", "reverse"] as const).map((op) => [
      `transactions.${op}`,
      {
        sees: `A's transactions answer another user's ${op} 404, exactly as ones that never existed; they stay unchanged`,
        check: async () => {
          // Pending and posted, so both the allowed and the refused transition are tried.
          for (const { id, version } of [a.posted, a.pending]) {
            // The right version and a stale one: a 409 of either kind would confirm the id exists.
            for (const expectedVersion of [version, version + 5]) {
              await expectSameAsMissing(
                (tid) =>
                  asB().mutate(`transactions.${op}`, {
                    id: tid,
                    expectedVersion,
                    ...(op === "reverse" ? { description: "Taken back by B" } : {}),
                  }),
                id,
                "txn",
              )
            }
          }
          await expectUnchanged()
        },
      },
    ]),
  ),
}

beforeAll(async () => {
  api = await startTestApi()
  b = await api.newUser(["read", "write"])
  // A's account may not go negative and holds money, so B's debits on it would pass the funds
  // guard: a 422 rather than a 404 would tell B the account exists.
  const account = ok(await asA().mutate("accounts.create", { name: "A's wallet", currency: "USD" }))
  expect(account.allowNegative).toBe(false)
  const funding = ok(
    await asA().mutate(
      "transactions.create",
      transaction(account.id, { direction: "credit", amount: 2000, description: "A's salary" }),
    ),
  )
  const posted = ok(await asA().mutate("transactions.create", transaction(account.id)))
  const pending = ok(
    await asA().mutate(
      "transactions.create",
      transaction(account.id, { status: "pending", description: "A's rent hold" }),
    ),
  )
  expect([posted.status, pending.status]).toEqual(["posted", "pending"])
  const bAccount = ok(
    await asB().mutate("accounts.create", {
      name: "B's wallet",
      currency: "USD",
      allowNegative: true,
    }),
  )
  own = {
    account: bAccount,
    transaction: ok(await asB().mutate("transactions.create", transaction(bAccount.id))),
  }
  const listed = ok(await asA().query("transactions.list", { accountId: account.id, limit: 200 }))
  const balance = ok(await asA().query("accounts.balance", { id: account.id }))
  expect(balance).toMatchObject({ posted: 1300, available: 600 })
  const savings = await createAccount(asA(), { name: "A's savings" })
  const spare = await createAccount(asA(), { name: "A's spare" })
  ok(
    await asA().mutate(
      "transactions.create",
      transaction(savings.id, { direction: "credit", amount: 1000, description: "A's savings" }),
    ),
  )
  const transfer = ok(
    await asA().mutate("transfers.create", {
      fromAccountId: savings.id,
      toAccountId: spare.id,
      amount: 300,
      currency: "USD",
      description: "A's transfer",
    }),
  )
  const others = await othersOf(savings.id, spare.id)
  expect(others.map((o) => o.balance.posted)).toEqual([700, 300])
  a = { account, posted, pending, listed, balance, transfer, savings, spare, others }
  expect(idsOf(a.listed).sort()).toEqual([funding.id, posted.id, pending.id].sort())
})
afterAll(() => api.close())

describe("one user never sees or changes another user's data", () => {
  it("has a case for every user procedure of the router", () => {
    const userProcedures = Object.entries(
      appRouter._def.procedures as unknown as Record<string, { _def: { meta?: ProcedureMeta } }>,
    )
      .filter(([, { _def }]) => _def.meta?.scope !== "admin")
      .map(([path]) => path)
    expect(Object.keys(cases).sort()).toEqual(userProcedures.sort())
  })

  for (const [path, { sees, check }] of Object.entries(cases)) {
    it(`${path}: ${sees}`, check)
  }
})
