import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runNode, testProcessEnv } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { demoUserId, ensureDemoApiKey } from "../../../scripts/demoApiKey.ts"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))

let api: TestApi
let dataDir: string
let demoKey: string
beforeAll(async () => {
  api = await startTestApi()
  dataDir = await mkdtemp(join(tmpdir(), "txn-seed-"))
  // The demo user and key exactly as `npm start` makes them.
  demoKey = (await api.runtime.runPromise(ensureDemoApiKey(join(dataDir, "demo-api-key")))).secret
})
afterAll(async () => {
  await api.close()
  await rm(dataDir, { recursive: true, force: true })
})

/** `npm run seed -- ...args` on the run's database, to its end. */
const seed = (args: ReadonlyArray<string>) =>
  runNode("scripts/seed.ts", args, {
    cwd: root,
    env: {
      ...testProcessEnv(),
      TXN_DATA_DIR: dataDir,
    },
  })

const accountsOf = async (key: string) => {
  const answer = await api.as(key).query("accounts.list", { limit: 200 })
  expect(answer.status).toBe(200)
  return answer.body.result.data.items as Array<Json>
}

const rowsIn = async (key: string, accountIds: ReadonlyArray<string>) => {
  let total = 0
  for (const accountId of accountIds) {
    const page = await api.as(key).query("transactions.list", { accountId, limit: 200 })
    total += page.body.result.data.items.length
  }
  return total
}

describe("npm run seed", { timeout: 120_000 }, () => {
  it("loads into the demo user by default, so npm start's demo key sees the rows, and says how", async () => {
    const before = new Set((await accountsOf(demoKey)).map((account) => account.id))
    const result = await seed(["--rows", "40", "--accounts", "2"])
    expect(result, result.stderr).toMatchObject({ code: 0 })
    expect(result.stdout).toContain(`User ${demoUserId}, 2 new accounts`)
    expect(result.stdout).toContain("The demo API key of npm start sees them")
    expect(result.stdout).toContain(`$(cat ${dataDir}/demo-api-key)`)

    const added = (await accountsOf(demoKey)).filter((account) => !before.has(account.id))
    expect(added.map((account) => account.name).sort()).toEqual([
      "Seeded account 1",
      "Seeded account 2",
    ])
    expect(
      await rowsIn(
        demoKey,
        added.map((account) => account.id),
      ),
    ).toBe(40)
  })

  it("loads into a new user with --new-user, and says how to give it a key", async () => {
    const before = (await accountsOf(demoKey)).length
    const result = await seed(["--rows", "10", "--accounts", "1", "--new-user"])
    expect(result, result.stderr).toMatchObject({ code: 0 })
    const userId = /User (usr_[a-z0-9]{26}),/.exec(result.stdout)?.[1]
    expect(userId).toBeDefined()
    expect(userId).not.toBe(demoUserId)
    expect(result.stdout).toContain(`npm run txn -- api-keys create --user ${userId} --scopes read`)
    expect(await accountsOf(demoKey)).toHaveLength(before)
  })

  it("refuses --user together with --new-user", async () => {
    const result = await seed(["--rows", "10", "--user", demoUserId, "--new-user"])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain("--user and --new-user exclude each other")
  })
})
