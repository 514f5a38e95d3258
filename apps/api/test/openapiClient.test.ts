import { execFile } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import ts from "typescript"
import { afterAll, beforeAll, expect, it } from "vitest"
import { commandsOf, readmeSnippet } from "../../../scripts/readme.ts"
import { type Json, startTestApi, type TestApi } from "./harness.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))

let api: TestApi
let folder: string
beforeAll(async () => {
  api = await startTestApi()
  // Inside the repository, so the snippet resolves openapi-fetch as an app of its own would.
  folder = await mkdtemp(join(fileURLToPath(new URL(".", import.meta.url)), ".openapi-client-"))
})
afterAll(async () => {
  await api.close()
  await rm(folder, { recursive: true, force: true })
})

it("generates TypeScript types from the live /openapi.json and calls the API with openapi-fetch, as docs/rest.md shows", async () => {
  const [generate] = commandsOf(readmeSnippet("openapi-generate"))
  expect(generate).toMatch(/^npx openapi-typescript /)
  // Not execFileSync: the API under test runs in this process and must go on answering.
  await promisify(execFile)(
    "sh",
    [
      "-c",
      generate!
        .replace("http://127.0.0.1:3000", api.url)
        .replace("-o txn-api.d.ts", `-o ${join(folder, "txn-api.d.ts")}`),
    ],
    { cwd: root, timeout: 30_000 },
  )

  const snippet = readmeSnippet("openapi-client")
  const client = join(folder, "client.ts")
  await writeFile(
    client,
    `${snippet}\nexport { balance, missing, opened, savings }\n`.replace(
      '"http://127.0.0.1:3000"',
      JSON.stringify(api.url),
    ),
  )

  // What the editor of a bundled app (Vite, say) would say of the snippet against the generated
  // types: nothing.
  const program = ts.createProgram([client], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: ["node"],
  })
  const problems = ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
  expect(problems).toEqual([])

  process.env.TXN_API_KEY = api.key
  const { opened, savings, missing, balance } = (await import(client)) as Record<string, Json>
  expect(opened.response.status).toBe(201)
  expect(savings).toMatchObject({ name: "Savings", currency: "EUR" })
  expect(missing.response.status).toBe(404)
  expect(missing.error.error.tag).toBe("NotFound")
  expect(balance.data).toMatchObject({ accountId: savings.id, posted: 0, available: 0 })
}, 60_000)
