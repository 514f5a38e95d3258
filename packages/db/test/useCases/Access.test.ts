import { Access, newUserId } from "@txn/domain"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { useCasesLayer } from "../fixtures.ts"

const run = <A, E>(body: (access: Access["Service"]) => Effect.Effect<A, E>) =>
  Effect.runPromise(Access.use(body).pipe(Effect.provide(useCasesLayer().layer)))

describe("Access", () => {
  it("creates a key whose secret is shown once, is not stored, and authenticates as its user", async () => {
    const { user, created, credential, listed } = await run((access) =>
      Effect.gen(function* () {
        const user = yield* access.createUser({ name: "Ada" })
        const created = yield* access.createApiKey({
          userId: user.id,
          name: "ci",
          scopes: ["read", "write", "read"],
        })
        const credential = yield* access.authenticate(created.secret)
        const listed = yield* access.listApiKeys({ userId: user.id })
        return { user, created, credential, listed }
      }),
    )
    expect(created.secret).toMatch(/^txn_[A-Za-z0-9_-]{43}$/)
    expect(JSON.stringify(created.apiKey)).not.toContain(created.secret)
    expect(created.apiKey).toMatchObject({ userId: user.id, scopes: ["read", "write"] })
    expect(credential).toEqual({
      keyId: created.apiKey.id,
      userId: user.id,
      scopes: ["read", "write"],
      via: "key",
      accountIds: null,
      expiresAt: null,
    })
    expect(listed).toHaveLength(1)
    expect(listed[0]?.lastUsedAt).not.toBeNull()
    expect(JSON.stringify(listed)).not.toContain(created.secret)
  })

  it("gives two keys different secrets", async () => {
    const secrets = await run((access) =>
      Effect.gen(function* () {
        const user = yield* access.createUser({ name: "Ada" })
        const make = access.createApiKey({ userId: user.id, name: "k", scopes: ["read"] })
        return [(yield* make).secret, (yield* make).secret]
      }),
    )
    expect(new Set(secrets).size).toBe(2)
  })

  it("stops authenticating a key the moment it is revoked", async () => {
    const { before, after, revoked } = await run((access) =>
      Effect.gen(function* () {
        const user = yield* access.createUser({ name: "Ada" })
        const { apiKey, secret } = yield* access.createApiKey({
          userId: user.id,
          name: "k",
          scopes: ["read"],
        })
        const before = yield* access.authenticate(secret)
        const revoked = yield* access.revokeApiKey({ id: apiKey.id })
        const after = yield* Effect.flip(access.authenticate(secret))
        return { before, after, revoked }
      }),
    )
    expect(before.scopes).toEqual(["read"])
    expect(revoked.revokedAt).not.toBeNull()
    expect(after._tag).toBe("Unauthorized")
  })

  it("answers unknown, malformed and empty secrets with Unauthorized that never echoes them", async () => {
    const unknown = `txn_${"A".repeat(43)}`
    const errors = await run((access) =>
      Effect.forEach([unknown, "txn_short", "", "' or 1=1 --", "x".repeat(10_000)], (secret) =>
        Effect.flip(access.authenticate(secret)),
      ),
    )
    for (const error of errors) {
      expect(error._tag).toBe("Unauthorized")
      expect(error.message).not.toContain("AAAA")
      expect(error.message).not.toContain("or 1=1")
    }
  })

  it("answers keys for an unknown user, and revoking an unknown key, with NotFound", async () => {
    const [create, revoke] = await run((access) =>
      Effect.all([
        Effect.flip(access.createApiKey({ userId: newUserId(), name: "k", scopes: ["read"] })),
        Effect.flip(access.revokeApiKey({ id: "key_00000000000000000000000000" as never })),
      ]),
    )
    expect(create._tag).toBe("NotFound")
    expect(revoke._tag).toBe("NotFound")
  })
})
