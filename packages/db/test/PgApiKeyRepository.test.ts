import { randomBytes } from "node:crypto"
import { type ApiKey, ApiKeyRepository, newApiKeyId, type UserId } from "@txn/domain"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { at, createUser, makeRuntime, outcome, type TestRuntime } from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

/** What a key's secret is stored as (its SHA-256): 64 lower-case hex digits. */
const newHash = () => randomBytes(32).toString("hex")

const keyOf = (userId: UserId, fields: Partial<ApiKey> = {}): ApiKey => ({
  id: newApiKeyId(),
  userId,
  name: "laptop",
  scopes: ["read", "write"],
  createdAt: at("2026-01-01T00:00:00Z"),
  lastUsedAt: null,
  revokedAt: null,
  ...fields,
})

const insert = (key: ApiKey, hash: string) =>
  runtime.runPromise(ApiKeyRepository.use((keys) => keys.insert(key, hash)))
const use = (hash: string, now: string) =>
  runtime.runPromise(ApiKeyRepository.use((keys) => keys.use(hash, new Date(now))))
const revoke = (key: Pick<ApiKey, "id">, now: string) =>
  runtime.runPromise(ApiKeyRepository.use((keys) => keys.revoke(key.id, new Date(now))))
const listByUser = (userId: UserId) =>
  runtime.runPromise(ApiKeyRepository.use((keys) => keys.listByUser(userId)))

/** The key as stored now, read through `listByUser`. */
const stored = async (key: ApiKey) => (await listByUser(key.userId)).find((k) => k.id === key.id)

describe("PgApiKeyRepository", () => {
  let userId: UserId
  beforeAll(async () => {
    userId = await runtime.runPromise(createUser)
  })

  it("returns an inserted key unchanged, never with its hash", async () => {
    const key = keyOf(userId, { name: "CI 🚀 'deploy'", scopes: ["read"] })
    const hash = newHash()
    const inserted = await insert(key, hash)
    expect(inserted).toEqual(key)
    expect(await stored(key)).toEqual(key)
    expect(JSON.stringify(inserted)).not.toContain(hash)
  })

  describe("use", () => {
    it("finds a live key by its hash: the key, its user and scopes", async () => {
      const key = keyOf(userId, { scopes: ["read"] })
      const hash = newHash()
      await insert(key, hash)
      expect(await use(hash, "2026-02-01T10:00:00Z")).toEqual(
        Option.some({
          keyId: key.id,
          userId,
          scopes: ["read"],
          via: "key",
          accountIds: null,
          expiresAt: null,
        }),
      )
    })

    it("finds nothing for a hash no key has", async () => {
      expect(await use(newHash(), "2026-02-01T10:00:00Z")).toEqual(Option.none())
    })

    it("finds nothing for a revoked key", async () => {
      const key = keyOf(userId)
      const hash = newHash()
      await insert(key, hash)
      await revoke(key, "2026-02-01T09:00:00Z")
      expect(await use(hash, "2026-02-01T10:00:00Z")).toEqual(Option.none())
      expect((await stored(key))?.lastUsedAt).toBeNull()
    })

    it("records the time of use, at most once a minute", async () => {
      const key = keyOf(userId)
      const hash = newHash()
      await insert(key, hash)
      const lastUsed = async () => (await stored(key))?.lastUsedAt

      await use(hash, "2026-02-01T10:00:00.000Z")
      expect(await lastUsed()).toBe("2026-02-01T10:00:00.000Z")
      // Within the minute the row is left alone, so a busy key is not rewritten on every request.
      await use(hash, "2026-02-01T10:00:30.000Z")
      await use(hash, "2026-02-01T10:01:00.000Z")
      expect(await lastUsed()).toBe("2026-02-01T10:00:00.000Z")
      await use(hash, "2026-02-01T10:01:00.001Z")
      expect(await lastUsed()).toBe("2026-02-01T10:01:00.001Z")
    })

    it("marks only the key that was used", async () => {
      const used = keyOf(userId)
      const idle = keyOf(userId)
      const usedHash = newHash()
      await insert(used, usedHash)
      await insert(idle, newHash())
      await use(usedHash, "2026-02-01T10:00:00.000Z")
      expect((await stored(idle))?.lastUsedAt).toBeNull()
    })
  })

  describe("revoke", () => {
    it("sets revokedAt and returns the key as stored", async () => {
      const key = keyOf(userId)
      await insert(key, newHash())
      const revoked = await revoke(key, "2026-03-01T12:00:00.000Z")
      const expected = { ...key, revokedAt: "2026-03-01T12:00:00.000Z" }
      expect(revoked).toEqual(Option.some(expected))
      expect(await stored(key)).toEqual(expected)
    })

    it("keeps the first revocation time when revoked again", async () => {
      const key = keyOf(userId)
      await insert(key, newHash())
      await revoke(key, "2026-03-01T12:00:00.000Z")
      expect(await revoke(key, "2026-03-02T12:00:00.000Z")).toEqual(
        Option.some({ ...key, revokedAt: "2026-03-01T12:00:00.000Z" }),
      )
    })

    it("returns none for an unknown key", async () => {
      expect(await revoke({ id: newApiKeyId() }, "2026-03-01T12:00:00Z")).toEqual(Option.none())
    })
  })

  describe("listByUser", () => {
    it("lists one user's keys, revoked ones included, newest first with ties by id", async () => {
      const owner = await runtime.runPromise(createUser)
      const other = await runtime.runPromise(createUser)
      const created = [
        "2026-01-01T00:00:00.000Z",
        "2026-01-03T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
      ]
      const keys: Array<ApiKey> = []
      for (const createdAt of created)
        keys.push(await insert(keyOf(owner, { createdAt }), newHash()))
      await insert(keyOf(other), newHash())
      const revoked = Option.getOrThrow(await revoke(keys[0]!, "2026-01-04T00:00:00.000Z"))

      const byNewest = [
        keys[1]!,
        ...[keys[2]!, keys[3]!].sort((a, b) => (a.id < b.id ? 1 : -1)),
        revoked,
      ]
      expect(await listByUser(owner)).toEqual(byNewest)
    })

    it("is empty for a user without keys", async () => {
      expect(await listByUser(await runtime.runPromise(createUser))).toEqual([])
    })
  })
})

// Raw SQL on purpose: the table's own guarantees, whatever the repository does.
describe("database constraints on api_keys", () => {
  let userId: UserId
  beforeAll(async () => {
    userId = await runtime.runPromise(createUser)
  })

  const insertRaw = (fields: Record<string, unknown> = {}) =>
    outcome(
      runtime,
      SqlClient.SqlClient.use((sql) => {
        const row = {
          id: newApiKeyId(),
          userId,
          name: "raw",
          secretHash: newHash(),
          scopes: "{read,write}",
          createdAt: "2026-01-15T12:00:00Z",
          ...fields,
        }
        return sql`insert into api_keys ${sql.insert(row)}`
      }),
    )

  const checkViolation = (constraint: string) => ({ rejected: true, code: "23514", constraint })

  it("accepts a valid row, so each rejection below is caused by its one bad value", async () => {
    expect(await insertRaw()).toEqual({ rejected: false })
    expect(await insertRaw({ scopes: "{read}" })).toEqual({ rejected: false })
    expect(await insertRaw({ scopes: "{write}" })).toEqual({ rejected: false })
  })

  it.each([
    ["no scope", "{}"],
    ["an unknown scope", "{admin}"],
    ["a known and an unknown scope", "{read,admin}"],
    ["three scopes", "{read,write,read}"],
    ["the same scope twice", "{read,read}"],
    ["an upper-case scope", "{READ}"],
  ])("rejects %s", async (_, scopes) => {
    expect(await insertRaw({ scopes })).toEqual(checkViolation("api_keys_scopes_check"))
  })

  it.each([
    ["too short", "abc123"],
    ["upper-case", newHash().toUpperCase()],
    ["not hex", "z".repeat(64)],
    ["65 digits", `${newHash()}0`],
  ])("rejects a secret hash that is %s", async (_, secretHash) => {
    expect(await insertRaw({ secretHash })).toEqual(checkViolation("api_keys_secret_hash_check"))
  })

  it("rejects a second key with the same secret hash", async () => {
    const secretHash = newHash()
    expect(await insertRaw({ secretHash })).toEqual({ rejected: false })
    expect(await insertRaw({ secretHash })).toEqual({
      rejected: true,
      code: "23505",
      constraint: "api_keys_secret_hash_key",
    })
  })

  it.each([
    ["no prefix", "0123456789abcdefghijklmnop"],
    ["a user prefix", "usr_0123456789abcdefghijklmnop"],
  ])("rejects an id with %s", async (_, id) => {
    expect(await insertRaw({ id })).toEqual(checkViolation("api_keys_id_check"))
  })

  it.each([
    ["empty", ""],
    ["over 200 characters", "n".repeat(201)],
  ])("rejects a name that is %s", async (_, name) => {
    expect(await insertRaw({ name })).toEqual(checkViolation("api_keys_name_check"))
  })

  it("rejects a key for a user that does not exist", async () => {
    expect(await insertRaw({ userId: "usr_0123456789abcdefghijklmnop" })).toEqual({
      rejected: true,
      code: "23503",
      constraint: "api_keys_user_id_fkey",
    })
  })
})
