import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { retryingConflicts } from "../src/trpc.ts"

/** A defect shaped like the driver's SqlError for a PostgreSQL error code. */
const sqlDefect = (code: string) => ({ _tag: "SqlError", reason: { cause: { code } } })

const failingTimes = (times: number, code: string) => {
  let calls = 0
  const effect = Effect.suspend(() => {
    calls += 1
    return calls <= times ? Effect.die(sqlDefect(code)) : Effect.succeed("done")
  })
  return { effect, calls: () => calls }
}

describe("retryingConflicts", () => {
  it("runs a use case again after a deadlock or a serialization failure", async () => {
    for (const code of ["40P01", "40001"]) {
      const attempt = failingTimes(2, code)
      expect(await Effect.runPromise(retryingConflicts(attempt.effect))).toBe("done")
      expect(attempt.calls()).toBe(3)
    }
  })

  it("gives up after three retries, and never retries other defects or failures", async () => {
    const stuck = failingTimes(10, "40P01")
    expect(Exit.isFailure(await Effect.runPromiseExit(retryingConflicts(stuck.effect)))).toBe(true)
    expect(stuck.calls()).toBe(4)

    const other = failingTimes(1, "23505")
    expect(Exit.isFailure(await Effect.runPromiseExit(retryingConflicts(other.effect)))).toBe(true)
    expect(other.calls()).toBe(1)

    let failures = 0
    const typed = Effect.suspend(() => {
      failures += 1
      return Effect.fail("InsufficientFunds")
    })
    expect(Exit.isFailure(await Effect.runPromiseExit(retryingConflicts(typed)))).toBe(true)
    expect(failures).toBe(1)
  })
})
