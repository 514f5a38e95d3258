import { chmod, mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { Access, type Scope, type UserId, UserRepository } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** Fixed, so restarts (and the data made through the demo key) keep the same owner. */
export const demoUserId = "usr_00000000000000000000000dev" as UserId

const scopes: ReadonlyArray<Scope> = ["read", "write"]

/**
 * The demo user and a read-and-write API key for it. The secret is kept in `file` (mode 0600) and
 * reused while it still authenticates as the demo user; otherwise (first start, a wiped database,
 * a revoked key, another DATABASE_URL) a new key named "demo" is created and replaces it there.
 */
export const ensureDemoApiKey = (file: string) =>
  Effect.gen(function* () {
    const users = yield* UserRepository
    const access = yield* Access
    yield* users.ensure({ id: demoUserId, name: "Demo user", createdAt: new Date().toISOString() })

    const saved = yield* Effect.promise(() =>
      readFile(file, "utf8").then(
        (text) => text.trim(),
        () => undefined,
      ),
    )
    if (saved !== undefined) {
      const credential = yield* Effect.option(access.authenticate(saved))
      if (
        Option.isSome(credential) &&
        credential.value.userId === demoUserId &&
        scopes.every((scope) => credential.value.scopes.includes(scope))
      ) {
        return { secret: saved, created: false }
      }
    }

    const { secret } = yield* access
      .createApiKey({ userId: demoUserId, name: "demo", scopes })
      .pipe(Effect.orDie)
    yield* Effect.promise(async () => {
      await mkdir(dirname(file), { recursive: true })
      await writeFile(file, `${secret}\n`, { mode: 0o600 })
      // writeFile's mode applies only to a new file; an older one may have looser permissions.
      await chmod(file, 0o600)
    })
    return { secret, created: true }
  })
