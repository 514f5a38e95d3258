import { randomBytes } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { readdir, readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { startTestApi, type TestApi } from "../../../apps/api/test/harness.ts"
import { signatureOf } from "../../../apps/worker/src/jobs/deliverWebhook.ts"
import {
  commandsOf,
  docPaths,
  inCi,
  inlineCommands,
  locate,
  longRunning,
  notRun,
  readDocs,
  readmeBlocks,
  readmeSnippet,
  smokeInlineCommands,
} from "../../../scripts/readme.ts"
import { asModule } from "./readmeModule.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))

describe("the README's TypeScript, run as written", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi()
  })
  afterAll(() => api.close())

  it("runs the frontend snippet against a running API", async () => {
    const snippet = readmeSnippet("frontend")
    expect(snippet).toContain("createTxnClient")
    const runnable = `${snippet}\nexport { account, balance, coffee, page }\n`
      .replace('"http://127.0.0.1:3000"', JSON.stringify(api.url))
      .replace("process.env.TXN_API_KEY", JSON.stringify(api.key))
    await asModule(runnable, async ({ account, balance, coffee, page }) => {
      expect(account).toMatchObject({ name: "Wallet", currency: "EUR" })
      expect(coffee).toMatchObject({ amount: 350, currency: "EUR", status: "posted" })
      const items = (page as { items: Array<{ id: string }> }).items
      expect(items.map((t) => t.id)).toEqual([(coffee as { id: string }).id])
      expect(items[0]).toMatchObject({ category: "treats", version: 2 })
      expect(balance).toMatchObject({ posted: 9_650, pending: 9_650, available: 9_650 })
    })
  })
})

describe("the live subscription snippet", () => {
  let api: TestApi
  beforeAll(async () => {
    api = await startTestApi()
  })
  afterAll(() => api.close())

  it("prints each change of the account as it is created", async () => {
    const snippet = readmeSnippet("live-subscribe")
    const logged = vi.spyOn(console, "log").mockImplementation(() => {})
    try {
      const preamble = `import { createTxnClient } from "@txn/client"
const txn = createTxnClient({ url: ${JSON.stringify(api.url)}, apiKey: ${JSON.stringify(api.key)} })
const account = await txn.accounts.create.mutate({ name: "Live", currency: "EUR" })
`
      await asModule(
        `${preamble}${snippet}\nexport { account, subscription, txn }\n`,
        async (module) => {
          const { account, subscription, txn } = module as {
            account: { id: string }
            subscription: { unsubscribe: () => void }
            txn: ReturnType<typeof import("../src/index.ts")["createTxnClient"]>
          }
          // The stream opens in the background: keep creating until one is seen (at most 5 s).
          const created: Array<string> = []
          const until = Date.now() + 5_000
          while (logged.mock.calls.length === 0 && Date.now() < until) {
            const { id } = await txn.transactions.create.mutate({
              accountId: account.id,
              direction: "credit",
              amount: 1,
              currency: "EUR",
            })
            created.push(id)
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
          subscription.unsubscribe()
          const [eventId, kind, transactionId] = logged.mock.calls[0] ?? []
          expect(typeof eventId).toBe("string")
          expect(kind).toBe("created")
          expect(created).toContain(transactionId)
        },
      )
    } finally {
      logged.mockRestore()
    }
  })
})

it("runs the webhook receiver: a signed delivery once, a duplicate dropped, a forgery refused", async () => {
  const secret = `whsec_${randomBytes(24).toString("base64url")}`
  const snippet = readmeSnippet("webhook-receiver")
  expect(snippet).toContain("process.env.TXN_WEBHOOK_SECRET")
  const logged = vi.spyOn(console, "log").mockImplementation(() => {})
  const previous = process.env.TXN_WEBHOOK_SECRET
  process.env.TXN_WEBHOOK_SECRET = secret
  try {
    await asModule(snippet, async ({ receive }) => {
      const handler = receive as (request: Request) => Promise<Response>
      const body = JSON.stringify({
        id: "evt_0123456789abcdefghijklmnop",
        type: "transaction.created",
        createdAt: new Date().toISOString(),
        data: { transaction: { id: "txn_0123456789abcdefghijklmnop", description: "Café ☕" } },
      })
      const deliver = (signature: string) =>
        handler(
          new Request("http://127.0.0.1/hooks", {
            method: "POST",
            headers: { "content-type": "application/json", "txn-signature": signature },
            body,
          }),
        )
      const signature = signatureOf(secret, body, Math.floor(Date.now() / 1000))
      expect((await deliver(signature)).status).toBe(204)
      expect((await deliver(signature)).status).toBe(204)
      expect(logged.mock.calls).toEqual([
        ["received", "transaction.created", "evt_0123456789abcdefghijklmnop"],
      ])
      const forged = signatureOf("whsec_other", body, Math.floor(Date.now() / 1000))
      expect((await deliver(forged)).status).toBe(400)
      const stale = signatureOf(secret, body, Math.floor(Date.now() / 1000) - 600)
      expect((await deliver(stale)).status).toBe(400)
    })
  } finally {
    logged.mockRestore()
    if (previous === undefined) delete process.env.TXN_WEBHOOK_SECRET
    else process.env.TXN_WEBHOOK_SECRET = previous
  }
})

describe("every command and snippet of the README and docs/ runs somewhere", () => {
  const text = readDocs()
  const blocks = readmeBlocks(text)
  const shell = ["sh", "bash", "shell", "zsh", "console"]
  const script = ["ts", "tsx", "typescript", "js", "javascript", "mjs"]
  const runnable = blocks.filter((block) => [...shell, ...script].includes(block.lang))

  it("marks every shell and script block with where it runs (the smoke runs sh blocks only)", () => {
    expect(runnable.length).toBeGreaterThan(10)
    const unmarked = runnable.filter(
      (block) =>
        block.run === undefined ||
        !/^(smoke|elsewhere|test [a-z-]+|never: .{10,})$/.test(block.run) ||
        (script.includes(block.lang) && !block.run.startsWith("test ")) ||
        (block.run === "smoke" && block.lang !== "sh"),
    )
    expect(unmarked.map((block) => `${locate(block.line)}: ${block.run}`)).toEqual([])
  })

  it("runs each block marked test in a test that reads it by its id", async () => {
    const sources = await testSources()
    const missing = runnable
      .filter((block) => block.run?.startsWith("test "))
      .map((block) => block.run!.slice("test ".length))
      .filter((id) => !sources.some((source) => source.includes(`readmeSnippet("${id}")`)))
    expect(missing).toEqual([])
  })

  it("runs each command of a block marked elsewhere as written, in CI or the smoke", () => {
    const inSmoke = new Set([
      ...blocks.filter((block) => block.run === "smoke").flatMap((block) => commandsOf(block.code)),
      ...smokeInlineCommands(text).map(({ command }) => command),
    ])
    const uncovered = blocks
      .filter((block) => block.run === "elsewhere")
      .flatMap((block) => commandsOf(block.code))
      // Settings a reader fills in for their own servers.
      .filter((command) => !/^export [A-Z_]+=\S+$/.test(command))
      .flatMap((command) => command.split(/\s*&&\s*/))
      .filter((command) => !inCi(command) && !(command in longRunning) && !inSmoke.has(command))
    expect(uncovered).toEqual([])
  })

  // The smoke runs every other inline command (scripts/readme.ts); these lists must not go stale.
  it("lists as unrun or long-running only commands the README quotes", () => {
    const quoted = new Set(inlineCommands(text).map(({ command }) => command))
    expect(Object.keys(notRun).filter((command) => !quoted.has(command))).toEqual([])
    expect(Object.keys(longRunning).filter((command) => !quoted.has(command))).toEqual([])
  })
})

describe("the README and docs/", () => {
  it("are read in one order that holds every page of docs/", async () => {
    const pages = (await readdir(`${root}/docs`)).filter((file) => file.endsWith(".md"))
    expect(docPaths.map((path) => path.slice(root.length)).sort()).toEqual(
      ["README.md", ...pages.map((page) => `docs/${page}`)].sort(),
    )
  })

  it("link only to headings and files that exist", () => {
    const slug = (heading: string) =>
      heading
        .trim()
        .toLowerCase()
        .replace(/[`*_]/g, "")
        .replace(/[^\w\- ]/g, "")
        .replace(/ /g, "-")
    const headings = new Map(
      docPaths.map((path) => {
        const prose = readFileSync(path, "utf8").replace(/^```[\s\S]*?^```/gm, "")
        return [path, new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)))]
      }),
    )
    const broken: Array<string> = []
    for (const path of docPaths) {
      const prose = readFileSync(path, "utf8").replace(/^```[\s\S]*?^```/gm, "")
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        const [file, anchor] = target!.split("#") as [string, string | undefined]
        const resolved = file === "" ? path : `${path.slice(0, path.lastIndexOf("/"))}/${file}`
        const normalized = fileURLToPath(new URL(resolved, "file:///"))
        if (!existsSync(normalized)) broken.push(`${path.slice(root.length)}: ${target}`)
        else if (anchor !== undefined && !headings.get(normalized)?.has(anchor))
          broken.push(`${path.slice(root.length)}: ${target}`)
      }
    }
    expect(broken).toEqual([])
  })
})

const testSources = async () => {
  const sources: Array<string> = []
  for (const workspace of ["apps", "packages", "tooling"]) {
    for (const name of await readdir(`${root}/${workspace}`)) {
      const dir = `${root}/${workspace}/${name}/test`
      if (!existsSync(dir)) continue
      for (const file of await readdir(dir)) {
        if (file.endsWith(".test.ts")) sources.push(await readFile(`${dir}/${file}`, "utf8"))
      }
    }
  }
  return sources
}
