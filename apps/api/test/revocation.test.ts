import type { ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { PgCredentialCache, PgDatabase } from "@txn/db"
import { runNode, testDatabaseUrl, testDirectDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type ApiProcess, mutate, provisionKey, startApiProcess } from "./apiProcess.ts"

const cli = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url))

const started: Array<ChildProcess> = []
afterEach(() => {
  for (const proc of started.splice(0)) proc.kill("SIGKILL")
})

let database: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>
beforeAll(() => {
  database = ManagedRuntime.make(
    PgDatabase.layer({ url: testDirectDatabaseUrl() ?? testDatabaseUrl(), maxConnections: 1 }).pipe(
      Layer.orDie,
    ),
  )
})
afterAll(() => database.dispose())

const sql = <A>(body: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  database.runPromise(SqlClient.SqlClient.use(body).pipe(Effect.orDie))

/** Two API processes on the run's database, each caching keys and listening for their changes. */
const startTwo = async () => {
  const apis = await Promise.all([startApiProcess(), startApiProcess()])
  started.push(...apis.map((api) => api.proc))
  await Promise.all(
    apis.flatMap((api) => [
      api.waitFor("api listening"),
      api.waitFor(PgCredentialCache.listeningMessage),
    ]),
  )
  const [a, b] = apis.map((api) => ({ ...api, url: `http://127.0.0.1:${api.port}` })) as [
    ApiProcess & { url: string },
    ApiProcess & { url: string },
  ]
  return { a, b }
}

const statusOf = async (url: string, secret: string) =>
  (
    await fetch(`${url}/trpc/accounts.list`, {
      headers: { authorization: `Bearer ${secret}` },
    })
  ).status

const pollEveryMs = 20
const maxPolls = 50

/**
 * Asks `url` with `secret` until it answers 401, at most 50 times 20 ms apart (one second of
 * pauses, counted from the moment the change committed); the answers seen, last one first.
 */
const pollUntilRefused = async (url: string, secret: string) => {
  const seen: Array<number> = []
  for (let poll = 0; poll < maxPolls; poll++) {
    const status = await statusOf(url, secret)
    seen.unshift(status)
    if (status === 401) break
    await new Promise((resolve) => setTimeout(resolve, pollEveryMs))
  }
  return seen
}

/** Revokes the key in SQL with triggers off: the change every process should hear of, unheard. */
const revokeUnannounced = (keyId: string) =>
  sql((sql) =>
    sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`set local session_replication_role = replica`
        yield* sql`update api_keys set revoked_at = now() where id = ${keyId}`
      }),
    ),
  )

describe("an API key revoked elsewhere", () => {
  it("stops working on another API process within a second of its revocation through the admin API", async () => {
    const { a, b } = await startTwo()
    const key = await provisionKey(a.url, a.adminToken)
    // B has checked the key and holds it.
    expect(await statusOf(b.url, key.secret)).toBe(200)
    expect(await statusOf(b.url, key.secret)).toBe(200)

    await mutate(a.url, a.adminToken, "admin.apiKeys.revoke", { id: key.keyId })
    const seen = await pollUntilRefused(b.url, key.secret)
    expect(seen[0]).toBe(401)
    expect(seen.length).toBeLessThanOrEqual(maxPolls)
  })

  it("stops working on every API process within a second of `npm run txn -- api-keys revoke`", async () => {
    const { a, b } = await startTwo()
    const key = await provisionKey(a.url, a.adminToken)
    expect(await statusOf(a.url, key.secret)).toBe(200)
    expect(await statusOf(b.url, key.secret)).toBe(200)

    const revoked = await runNode(cli, ["keys", "revoke", key.keyId], {
      env: { ...process.env, DATABASE_URL: Redacted.value(testDatabaseUrl()) },
    })
    expect(revoked, revoked.stderr).toMatchObject({ code: 0 })
    for (const api of [a, b]) {
      const seen = await pollUntilRefused(api.url, key.secret)
      expect(seen[0]).toBe(401)
    }
  })

  it("stays accepted from the cache when its change is not announced, until the cache's time is up", async () => {
    // What the two tests above measure is the notification: without it the key lives on.
    const { a, b } = await startTwo()
    const key = await provisionKey(a.url, a.adminToken)
    expect(await statusOf(b.url, key.secret)).toBe(200)
    await revokeUnannounced(key.keyId)
    for (let i = 0; i < 5; i++) expect(await statusOf(b.url, key.secret)).toBe(200)

    // A process that looks the key up again (the cache's time is up, here: off) refuses it.
    const uncached = await startApiProcess({ TXN_API_KEY_CACHE_TTL_MS: "0" })
    started.push(uncached.proc)
    const listening = await uncached.waitFor("api listening")
    expect(await statusOf(listening.url, key.secret)).toBe(401)
  })

  it("is looked up again once the connection that listens for changes drops", async () => {
    const { a, b } = await startTwo()
    const key = await provisionKey(a.url, a.adminToken)
    expect(await statusOf(b.url, key.secret)).toBe(200)

    const dropped = await sql(
      (sql) => sql<{ readonly pid: number }>`
        select pg_terminate_backend(pid) as pid from pg_stat_activity
         where datname = current_database() and query ilike ${`listen%${PgCredentialCache.channel}%`}`,
    )
    expect(dropped.length).toBeGreaterThanOrEqual(2)
    // A change while nobody listens is heard by nobody; the cache must not be trusted meanwhile.
    await revokeUnannounced(key.keyId)
    const seen = await pollUntilRefused(b.url, key.secret)
    expect(seen[0]).toBe(401)
    // And it listens again.
    await expect
      .poll(() => b.lines.filter((line) => line.msg === PgCredentialCache.listeningMessage).length)
      .toBeGreaterThanOrEqual(2)
  })
})
