import { randomBytes } from "node:crypto"
import { readFile, rm, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, expect, it } from "vitest"
import { startTestApi, type TestApi } from "../../../apps/api/test/harness.ts"

let api: TestApi
beforeAll(async () => {
  api = await startTestApi()
})
afterAll(() => api.close())

const readme = fileURLToPath(new URL("../../../README.md", import.meta.url))
const clientEntry = fileURLToPath(new URL("../src/index.ts", import.meta.url))

it("runs the README's frontend snippet as written, against a running API", async () => {
  const text = await readFile(readme, "utf8")
  const section = text.slice(text.indexOf("## Using it from a frontend"))
  const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  expect(snippet).toContain("createTxnClient")
  const runnable = `${snippet}\nexport { account, balance, coffee, page }\n`
    .replace('from "@txn/client"', `from ${JSON.stringify(clientEntry)}`)
    .replace('"http://127.0.0.1:3000"', JSON.stringify(api.url))
    .replace("process.env.TXN_API_KEY", JSON.stringify(api.key))
  const file = fileURLToPath(
    new URL(`./.readme-${randomBytes(4).toString("hex")}.ts`, import.meta.url),
  )
  await writeFile(file, runnable)
  try {
    const { account, balance, coffee, page } = await import(file)
    expect(account).toMatchObject({ name: "Wallet", currency: "EUR" })
    expect(coffee).toMatchObject({ amount: 350, currency: "EUR", status: "posted" })
    expect(page.items.map((t: { id: string }) => t.id)).toEqual([coffee.id])
    expect(page.items[0]).toMatchObject({ category: "treats", version: 2 })
    expect(balance).toMatchObject({ posted: 9_650, pending: 9_650, available: 9_650 })
  } finally {
    await rm(file, { force: true })
  }
})
