import { createHash, randomBytes } from "node:crypto"
import { makeAppLayer, makeLog } from "@txn/platform"
import { BullHoldScheduler, expireHoldJobId, makeQueueBackend, Queues } from "@txn/queue"
import { LogCapture, testDatabaseUrl, testDirectDatabaseUrl, uniquePrefix } from "@txn/testing"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Json, startTestApi } from "./harness.ts"

/** What a stored BullMQ job looks like to anyone who can read the queue's store. */
interface StoredJob {
  readonly name: string
  readonly data: unknown
  readonly opts: unknown
}
interface ReadableQueue {
  getJob(id: string): Promise<StoredJob | undefined>
}

interface Answer {
  readonly status: number
  readonly body: Json
}

const originalDatabaseUrl = process.env.DATABASE_URL

/**
 * The run's database URL with a password in it, set for this file only: every layer the harness
 * builds then holds it. A URL that has one (the embedded server's) keeps it; otherwise the server
 * trusts local connections, so any password is accepted and a random one is added.
 */
const runUrl = new URL(Redacted.value(testDatabaseUrl()))
const databasePassword =
  runUrl.password === ""
    ? `pw-${randomBytes(12).toString("hex")}`
    : decodeURIComponent(runUrl.password)
beforeAll(() => {
  const url = new URL(runUrl.href)
  if (url.username === "") url.username = "postgres"
  url.password = databasePassword
  process.env.DATABASE_URL = url.href
})
afterAll(() => {
  process.env.DATABASE_URL = originalDatabaseUrl
})

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex")

describe("secrets stay out of logs, error answers and job payloads", () => {
  it("after a realistic session with keys created, used, guessed and revoked", async () => {
    const databaseUrl = Redacted.value(testDatabaseUrl())
    expect(new URL(databaseUrl).password).toBe(databasePassword)

    // The API's own runtime, with a hold scheduler on a queue this test can read back.
    const runtimeLogs = new LogCapture()
    const queues = makeQueueBackend({
      redisUrl: undefined,
      databaseUrl: testDirectDatabaseUrl() ?? testDatabaseUrl(),
      prefix: uniquePrefix("secrets"),
    })
    const holds = queues.queue(Queues.holds)
    const runtime = ManagedRuntime.make(
      makeAppLayer({
        databaseUrl: testDatabaseUrl(),
        databaseDirectUrl: testDirectDatabaseUrl(),
        databasePoolMax: 3,
        holdScheduler: BullHoldScheduler.layer(holds),
        log: makeLog({ name: "api", level: "debug", destination: runtimeLogs }),
      }),
    )
    const api = await startTestApi({ runtime })
    const errors: Array<Answer> = []
    const send = async (
      path: string,
      input: unknown,
      auth: string | null,
      method: "GET" | "POST" = "POST",
    ) => {
      const answer = await api.call(path, input, { method, auth })
      if (answer.status >= 400) errors.push(answer)
      return answer
    }

    try {
      const admin = api.adminToken
      const user = (await send("admin.users.create", { name: "Alice" }, admin)).body.result.data
      const created = await send(
        "admin.apiKeys.create",
        { userId: user.id, name: "laptop", scopes: ["read", "write"] },
        admin,
      )
      expect(created.status).toBe(200)
      const secret: string = created.body.result.data.secret
      const keyId: string = created.body.result.data.apiKey.id
      const spare = await send(
        "admin.apiKeys.create",
        { userId: user.id, name: "spare", scopes: ["read"] },
        admin,
      )
      const spareSecret: string = spare.body.result.data.secret

      // The key at work, with secrets in free text the user chose to store (allowed: it is theirs).
      const account = (
        await send(
          "accounts.create",
          { name: "Main", currency: "USD", allowNegative: true },
          secret,
        )
      ).body.result.data
      const hold = await send(
        "transactions.create",
        {
          accountId: account.id,
          direction: "debit",
          amount: 1250,
          currency: "USD",
          status: "pending",
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          description: `pasted by mistake: ${admin}`,
          counterparty: secret,
          metadata: { note: spareSecret, db: databaseUrl },
        },
        secret,
      )
      expect(hold.status).toBe(200)
      const transaction = hold.body.result.data
      expect(transaction.description).toBe(`pasted by mistake: ${admin}`)
      expect((await send("transactions.get", { id: transaction.id }, secret, "GET")).status).toBe(
        200,
      )
      expect(
        (await send("transactions.list", { search: admin.slice(0, 20) }, secret, "GET")).body.result
          .data.items,
      ).toHaveLength(1)

      // Requests that fail validation while carrying secrets in their input.
      const invalid = [
        await send(
          "transactions.create",
          {
            accountId: account.id,
            direction: "debit",
            amount: -1,
            currency: "USD",
            description: admin,
            reference: secret,
          },
          secret,
        ),
        await send(
          "transactions.create",
          {
            accountId: secret,
            direction: admin,
            amount: spareSecret,
            currency: databaseUrl,
            description: admin.repeat(60),
            occurredAt: secret,
            status: admin,
            metadata: { note: 42, password: databaseUrl.repeat(20) },
          },
          secret,
        ),
        await send("transactions.list", { search: admin, cursor: secret, limit: admin }, secret),
        await send("accounts.get", { id: databasePassword }, secret, "GET"),
        await send("admin.apiKeys.create", { userId: secret, name: admin, scopes: [admin] }, admin),
      ]
      expect(invalid.map((answer) => answer.status)).toEqual([400, 400, 400, 400, 400])

      // Wrong keys, wrong tokens, the wrong kind of credential.
      const nearMiss = `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`
      const refused = [
        await send("accounts.list", {}, nearMiss, "GET"),
        await send("accounts.list", {}, `txn_${randomBytes(32).toString("base64url")}`, "GET"),
        await send("accounts.list", {}, `${secret} ${admin}`, "GET"),
        await send("admin.users.create", { name: "Mallory" }, `${admin}x`),
        await send("admin.users.create", { name: "Mallory" }, secret),
        await send("accounts.list", {}, admin, "GET"),
        await send("admin.apiKeys.list", { userId: user.id }, databasePassword, "GET"),
      ]
      expect(refused.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 403, 403, 401])

      // Listing keys shows them without their secrets.
      const listed = await send("admin.apiKeys.list", { userId: user.id }, admin, "GET")
      expect(listed.body.result.data.map((key: { name: string }) => key.name).sort()).toEqual([
        "laptop",
        "spare",
      ])
      for (const value of [secret, spareSecret, sha256(secret), sha256(spareSecret)]) {
        expect(JSON.stringify(listed.body)).not.toContain(value)
      }

      // A client token minted with the key, used, refused what only keys may do.
      const minted = await send("tokens.create", { scopes: ["read"], ttlSeconds: 60 }, secret)
      expect(minted.status).toBe(200)
      const clientToken: string = minted.body.result.data.token
      expect((await send("accounts.list", {}, clientToken, "GET")).status).toBe(200)
      expect((await send("webhooks.list", {}, clientToken, "GET")).status).toBe(403)

      // A revoked key stops working, and so do its tokens.
      const revoked = await send("admin.apiKeys.revoke", { id: keyId }, admin)
      expect(revoked.body.result.data.revokedAt).toEqual(expect.any(String))
      expect((await send("accounts.list", {}, secret, "GET")).status).toBe(401)
      expect((await send("transactions.get", { id: transaction.id }, secret, "GET")).status).toBe(
        401,
      )
      expect((await send("accounts.list", {}, clientToken, "GET")).status).toBe(401)

      // The hold-expiry job carries the transaction id and nothing else.
      const job = await (holds as unknown as ReadableQueue).getJob(expireHoldJobId(transaction.id))
      expect(job).toBeDefined()
      expect(job?.data).toEqual({ transactionId: transaction.id })

      const secrets = {
        apiKey: secret,
        spareApiKey: spareSecret,
        harnessApiKey: api.key,
        apiKeyHash: sha256(secret),
        clientToken,
        clientTokenHash: sha256(clientToken),
        adminToken: admin,
        databasePassword,
        databaseUrl,
      }
      const logs = [...api.logs.raw, ...runtimeLogs.raw].join("\n")
      expect(api.logs.raw.length).toBeGreaterThan(errors.length)
      expect(errors.length).toBe(invalid.length + refused.length + 4)
      const jobText = JSON.stringify({ name: job?.name, data: job?.data, opts: job?.opts })
      for (const [name, value] of Object.entries(secrets)) {
        expect({ name, inLogs: logs.includes(value) }).toEqual({ name, inLogs: false })
        for (const answer of errors) {
          expect({ name, inError: JSON.stringify(answer.body).includes(value) }).toEqual({
            name,
            inError: false,
          })
        }
        expect({ name, inJob: jobText.includes(value) }).toEqual({ name, inJob: false })
      }
    } finally {
      await api.close()
      await holds.close()
      await queues.close()
      await runtime.dispose()
    }
  })

  it("when the database is unreachable, the logged causes and the answers leave out its URL and password", async () => {
    const unreachable = new URL(Redacted.value(testDatabaseUrl()))
    unreachable.port = "1"
    const runtimeLogs = new LogCapture()
    const runtime = ManagedRuntime.make(
      makeAppLayer({
        databaseUrl: Redacted.make(unreachable.href),
        databasePoolMax: 1,
        holdScheduler: BullHoldScheduler.layer({
          name: "holds",
          add: () => Promise.reject(new Error("no queue here")),
          addBulk: () => Promise.reject(new Error("no queue here")),
          upsertJobScheduler: () => Promise.reject(new Error("no queue here")),
          remove: () => Promise.reject(new Error("no queue here")),
          getJobCounts: () => Promise.reject(new Error("no queue here")),
          close: async () => {},
        }),
        log: makeLog({ name: "api", level: "debug", destination: runtimeLogs }),
      }),
    )
    const api = await startTestApi({ runtime })
    try {
      const answers = [
        // The key cannot be checked: 503, and the cause is logged.
        await api.query("accounts.list", {}),
        // The admin token needs no database, the use case does: 500, and the cause is logged.
        await api.as(api.adminToken).mutate("admin.users.create", { name: "Bob" }),
      ]
      expect(answers.map((answer) => answer.status)).toEqual([503, 500])
      const logs = [...api.logs.raw, ...runtimeLogs.raw].join("\n")
      expect(logs).toContain("authentication failed")
      expect(logs).toContain("request failed")
      for (const value of [databasePassword, unreachable.href, api.adminToken, api.key]) {
        expect(logs).not.toContain(value)
        for (const answer of answers) expect(JSON.stringify(answer.body)).not.toContain(value)
      }
    } finally {
      await api.close()
      await runtime.dispose()
    }
  })
})
