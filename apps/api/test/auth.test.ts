import { createHash, randomBytes } from "node:crypto"
import type { Scope } from "@txn/domain"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { appRouter } from "../src/router.ts"
import type { ProcedureMeta } from "../src/trpc.ts"
import {
  type Answer,
  type InputArgs,
  type Json,
  type MutationPath,
  ok,
  type QueryPath,
  startTestApi,
  type TestApi,
} from "./harness.ts"

let api: TestApi
/** Keys of other users holding one scope each. */
let readOnly: string
let writeOnly: string
beforeAll(async () => {
  api = await startTestApi()
  readOnly = (await api.newUser(["read"])).key
  writeOnly = (await api.newUser(["write"])).key
})
afterAll(() => api.close())

interface ProcedureDef {
  readonly type: "query" | "mutation" | "subscription"
  readonly meta?: ProcedureMeta
}

// Every procedure of the router, so a new one is covered the moment it is added.
const procedures = Object.entries(
  appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>,
).map(([path, { _def }]) => ({ path, type: _def.type, scope: _def.meta?.scope }))

const userProcedures = procedures.filter(({ scope }) => scope !== "admin")
const adminProcedures = procedures.filter(({ scope }) => scope === "admin")

type Procedure = (typeof procedures)[number]

/** `auth`: the bearer token; null sends no Authorization header. */
const send = (
  procedure: Procedure,
  input: unknown,
  auth: string | null,
  headers: Record<string, string> = {},
) =>
  api.call(procedure.path, input, {
    method: procedure.type === "mutation" ? "POST" : "GET",
    auth,
    headers,
  })

/** An input no procedure accepts, so a check that came after validation would answer 400. */
const badInput = { surprise: 1 }

const expectError = (
  response: { status: number; body: Json },
  status: number,
  tag: string,
  what: string,
) => {
  expect([what, response.status, response.body.error?.data?.tag]).toEqual([what, status, tag])
}

/** Well-formed, unknown, or not bearer tokens at all; none may get past authentication. */
const badCredentials: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ["an unknown key", { authorization: `Bearer txn_${randomBytes(32).toString("base64url")}` }],
  ["a key cut short", { authorization: "Bearer txn_abc" }],
  ["a key of the wrong shape", { authorization: "Bearer not-a-key-9f2c1e" }],
  ["an empty bearer", { authorization: "Bearer " }],
  ["another scheme", { authorization: "Basic dXNlcjpwYXNz" }],
  ["a bare token without a scheme", { authorization: "txn_no_scheme_given_here" }],
  ["a wrong admin token", { authorization: `Bearer ${randomBytes(24).toString("base64url")}` }],
]

describe("every procedure declares who may call it", () => {
  it("finds procedures to check, user and admin ones", () => {
    expect(userProcedures.length).toBeGreaterThan(0)
    expect(adminProcedures.length).toBeGreaterThan(0)
  })

  for (const { path, type, scope } of procedures) {
    it(`${path}: needs ${scope ?? "nothing"}: queries and subscriptions read, changes write, admin.* the admin token`, () => {
      const expected = path.startsWith("admin.") ? "admin" : type === "mutation" ? "write" : "read"
      expect(scope).toBe(expected)
    })
  }
})

describe("every procedure refuses callers without valid credentials", () => {
  for (const procedure of procedures) {
    const { path } = procedure
    it(`${path}: answers no Authorization header with 401 Unauthorized, even for bad input`, async () => {
      for (const input of [{}, badInput, undefined]) {
        const response = await send(procedure, input, null)
        expectError(response, 401, "Unauthorized", `${path} ${JSON.stringify(input)}`)
        expect(response.body.error.message).toContain("Authorization: Bearer")
      }
    })

    it(`${path}: answers a malformed or unknown key with 401 Unauthorized, without echoing it`, async () => {
      for (const [what, headers] of badCredentials) {
        for (const input of [{}, badInput]) {
          const response = await send(procedure, input, null, headers)
          expectError(response, 401, "Unauthorized", `${path} with ${what}`)
          const token = (headers.authorization ?? "").replace(/^\S+ /, "")
          if (token.length > 0) expect(JSON.stringify(response.body)).not.toContain(token)
        }
      }
    })
  }
})

describe("user procedures need an API key with their scope", () => {
  for (const procedure of userProcedures) {
    const { path } = procedure
    const scope = procedure.scope as Scope

    it(`${path}: answers a key without the ${scope} scope with 403 Forbidden naming the scope`, async () => {
      const lacking = scope === "read" ? writeOnly : readOnly
      for (const input of [{}, badInput]) {
        const response = await send(procedure, input, lacking)
        expectError(response, 403, "Forbidden", path)
        expect(response.body.error.data.details).toEqual({ requiredScope: scope })
        expect(response.body.error.message).toContain(scope)
      }
    })

    it(`${path}: lets a key holding only the ${scope} scope through to validation`, async () => {
      const holding = scope === "read" ? readOnly : writeOnly
      const response = await send(procedure, badInput, holding)
      expectError(response, 400, "ValidationError", path)
    })

    it(`${path}: answers the admin token with 403 Forbidden: it cannot act as a user`, async () => {
      const response = await send(procedure, {}, api.adminToken)
      expectError(response, 403, "Forbidden", path)
      expect(response.body.error.data.details).toEqual({ requiredScope: scope })
    })
  }
})

describe("admin procedures need the admin token", () => {
  for (const procedure of adminProcedures) {
    const { path } = procedure

    it(`${path}: answers a user's key, even one with every scope, with 403 Forbidden`, async () => {
      for (const input of [{}, badInput]) {
        const response = await send(procedure, input, api.key)
        expectError(response, 403, "Forbidden", path)
        expect(response.body.error.data.details).toEqual({ requiredScope: "admin" })
      }
    })

    it(`${path}: lets the admin token through to validation`, async () => {
      const response = await send(procedure, badInput, api.adminToken)
      expectError(response, 400, "ValidationError", path)
    })
  }
})

/** An admin call's data; each must succeed. */
const succeeded = <Data>(path: string, response: Answer<Data>) => {
  expect([path, response.status]).toEqual([path, 200])
  return ok(response)
}

/** Admin mutations; each must succeed. */
const admin = async <Path extends MutationPath>(path: Path, ...input: InputArgs<Path>) =>
  succeeded(path, await api.as(api.adminToken).mutate(path, ...input))

/** Admin queries; each must succeed. */
const adminQuery = async <Path extends QueryPath>(path: Path, ...input: InputArgs<Path>) =>
  succeeded(path, await api.as(api.adminToken).query(path, ...input))

const keyPattern = /^txn_[A-Za-z0-9_-]{43}$/

describe("API keys through the admin API", () => {
  it("shows the secret once at creation; listing never contains it or its hash", async () => {
    const user = await admin("admin.users.create", { name: "Key owner" })
    expect(user.id).toMatch(/^usr_[0-9a-z]{26}$/)
    const created = await admin("admin.apiKeys.create", {
      userId: user.id,
      name: "ci",
      scopes: ["read"],
    })
    expect(created.secret).toMatch(keyPattern)
    expect(created.apiKey).toMatchObject({
      userId: user.id,
      name: "ci",
      scopes: ["read"],
      lastUsedAt: null,
      revokedAt: null,
    })
    expect(created.apiKey.id).toMatch(/^key_[0-9a-z]{26}$/)
    expect(JSON.stringify(created.apiKey)).not.toContain(created.secret)

    const listed = await adminQuery("admin.apiKeys.list", { userId: user.id })
    expect(listed).toEqual([created.apiKey])
    const text = JSON.stringify(listed)
    expect(text).not.toContain(created.secret)
    expect(text).not.toContain(created.secret.slice(4))
    expect(text).not.toContain(createHash("sha256").update(created.secret).digest("hex"))
  })

  it("records lastUsedAt once the key is used", async () => {
    const user = await admin("admin.users.create", { name: "Key user" })
    const created = await admin("admin.apiKeys.create", {
      userId: user.id,
      name: "used",
      scopes: ["read"],
    })
    const before = Date.now()
    const used = await api.as(created.secret).query("accounts.list", {})
    expect(used.status).toBe(200)
    const [listed] = await adminQuery("admin.apiKeys.list", { userId: user.id })
    expect(listed?.id).toBe(created.apiKey.id)
    expect(listed?.lastUsedAt).not.toBeNull()
    const lastUsed = Date.parse(String(listed?.lastUsedAt))
    expect(lastUsed).toBeGreaterThanOrEqual(before - 1000)
    expect(lastUsed).toBeLessThanOrEqual(Date.now() + 1000)
  })

  it("stops a revoked key on the very next request, and keeps other keys working", async () => {
    const user = await admin("admin.users.create", { name: "Revoked" })
    const createKey = (name: string) =>
      admin("admin.apiKeys.create", { userId: user.id, name, scopes: ["read", "write"] })
    const [doomed, kept] = await Promise.all([createKey("doomed"), createKey("kept")])
    const listAs = (key: string) => api.as(key).query("accounts.list", {})
    expect((await listAs(doomed.secret)).status).toBe(200)

    const revoked = await admin("admin.apiKeys.revoke", { id: doomed.apiKey.id })
    expect(revoked.id).toBe(doomed.apiKey.id)
    expect(revoked.revokedAt).not.toBeNull()

    expectError(await listAs(doomed.secret), 401, "Unauthorized", "read after revoke")
    const write = await api
      .as(doomed.secret)
      .mutate("accounts.create", { name: "After revoke", currency: "USD" })
    expectError(write, 401, "Unauthorized", "write after revoke")
    expect((await listAs(kept.secret)).status).toBe(200)

    const listed = await adminQuery("admin.apiKeys.list", { userId: user.id })
    const states = Object.fromEntries(
      listed.map((key: { name: string; revokedAt: string | null }) => [key.name, key.revokedAt]),
    )
    expect(states).toEqual({ doomed: revoked.revokedAt, kept: null })
  })

  it("answers revoking or listing what does not exist with 404 NotFound", async () => {
    const asAdmin = api.as(api.adminToken)
    const revoke = await asAdmin.mutate("admin.apiKeys.revoke", {
      id: "key_00000000000000000000000000",
    })
    expectError(revoke, 404, "NotFound", "revoke")
    const list = await asAdmin.query("admin.apiKeys.list", {
      userId: "usr_00000000000000000000000000",
    })
    expectError(list, 404, "NotFound", "list")
    const create = await asAdmin.mutate("admin.apiKeys.create", {
      userId: "usr_00000000000000000000000000",
      name: "orphan",
      scopes: ["read"],
    })
    expectError(create, 404, "NotFound", "create")
  })

  it("issues unique keys of 256 random bits", async () => {
    const user = await admin("admin.users.create", { name: "Many keys" })
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        admin("admin.apiKeys.create", { userId: user.id, name: `k${i}`, scopes: ["read"] }),
      ),
    )
    const secrets: Array<string> = created.map((c: { secret: string }) => c.secret)
    const ids: Array<string> = created.map((c: { apiKey: { id: string } }) => c.apiKey.id)
    for (const secret of secrets) {
      expect(secret).toMatch(keyPattern)
      // 43 base64url characters carry 258 bits: the 32 random bytes of the key.
      expect(Buffer.from(secret.slice(4), "base64url")).toHaveLength(32)
    }
    expect(new Set(secrets).size).toBe(secrets.length)
    expect(new Set(ids).size).toBe(ids.length)
    // Random bytes spread over the whole alphabet and share no prefix: not a counter or a clock.
    const characters = new Set(secrets.flatMap((secret) => [...secret.slice(4)]))
    expect(characters.size).toBeGreaterThan(56)
    const prefixes = new Set(secrets.map((secret) => secret.slice(0, 8)))
    expect(prefixes.size).toBe(secrets.length)
    for (const secret of secrets) {
      const response = await api.as(secret).query("accounts.list", {})
      expect(response.status).toBe(200)
    }
  })

  it("never echoes a presented key in the error, whatever its shape", async () => {
    const user = await admin("admin.users.create", { name: "Echo" })
    const { secret } = await admin("admin.apiKeys.create", {
      userId: user.id,
      name: "echo",
      scopes: ["read"],
    })
    const { secret: revoked, apiKey } = await admin("admin.apiKeys.create", {
      userId: user.id,
      name: "revoked",
      scopes: ["read"],
    })
    await admin("admin.apiKeys.revoke", { id: apiKey.id })
    const tokens = [
      `txn_${randomBytes(32).toString("base64url")}`,
      // A live key with its last character changed.
      `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`,
      revoked,
      "<script>alert(1)</script>",
      "x".repeat(3000),
    ]
    for (const token of tokens) {
      const response = await api.as(token).query("accounts.list", {})
      expectError(response, 401, "Unauthorized", token.slice(0, 20))
      const text = JSON.stringify(response.body)
      expect(text).not.toContain(token)
      expect(text).not.toContain(token.slice(4, 24))
      expect(response.body.error.message).toBe("Missing, unknown or revoked API key")
    }
  })
})
