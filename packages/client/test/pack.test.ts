/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a stock Vite + React
 * + TypeScript app and into a plain script's folder, both outside the monorepo. The app must
 * build (`tsc -b && vite build`, its type tests included), its `tsc` must read nothing of the
 * server, the built page must work in headless Chromium against a running API, and the script
 * must run on Node 24, Node 20, Deno and Bun.
 */
import { execFile } from "node:child_process"
import { once } from "node:events"
import { existsSync } from "node:fs"
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { dirname, extname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { hasChromium, launchChromium } from "../../../apps/api/test/browser.ts"
import { startTestApi, type TestApi } from "../../../apps/api/test/harness.ts"

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const repoRoot = resolve(packageDir, "../..")
const consumers = join(packageDir, "test/consumers")
const bin = (name: string) => join(repoRoot, "node_modules/.bin", name)

/**
 * The environment of the commands run here: Node 24 first on PATH, and none of the npm settings
 * of the `npm test` around this run, which would point npm at the monorepo, but where npm keeps
 * its cache and finds its configuration. The machine's CA certificates and proxy reach npm
 * through the environment (NODE_EXTRA_CA_CERTS, HTTPS_PROXY: turbo passes them through), as its
 * global npmrc is looked for beside Node 24, not where the machine keeps it.
 */
const env = Object.fromEntries(
  Object.entries({
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  }).filter(
    ([name]) =>
      !/^npm_/i.test(name) || /^npm_config_(cache|registry|userconfig|globalconfig)$/i.test(name),
  ),
)

const run = async (
  command: string,
  args: ReadonlyArray<string>,
  options: { cwd: string; env?: Record<string, string> },
) => {
  try {
    return await promisify(execFile)(command, args, {
      cwd: options.cwd,
      env: { ...env, ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(" ")} failed in ${options.cwd}:\n${stdout}\n${stderr}`)
  }
}

/** Serves a built app's files, the way any static host would. */
const serveStatic = async (root: string, routes: Record<string, () => Promise<string>> = {}) => {
  const types: Record<string, string> = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
  }
  const server: Server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname
    const route = routes[path]
    if (route !== undefined) {
      response.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" })
      response.end(await route())
      return
    }
    const file = join(root, path === "/" ? "index.html" : path)
    if (!file.startsWith(root) || !existsSync(file)) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" })
    response.end(await readFile(file))
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}

/** Whether a file under src/ (or the build's config) changed after dist/ was built. */
const distIsStale = async () => {
  const built = join(packageDir, "dist/index.js")
  if (!existsSync(built)) return true
  const builtAt = (await stat(built)).mtimeMs
  const sources = await readdir(join(packageDir, "src"), { recursive: true })
  const inputs = [
    ...sources.map((file) => join(packageDir, "src", file)),
    join(packageDir, "package.json"),
    join(packageDir, "tsdown.config.ts"),
  ]
  for (const input of inputs) if ((await stat(input)).mtimeMs > builtAt) return true
  return false
}

let work: string
let packed: { filename: string; files: Array<{ path: string }> }
let api: TestApi
const app = () => join(work, "vite-react")
const script = () => join(work, "node")

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "txn-client-pack-"))
  // `npm test` has turbo build dist/ before this runs (and other packages' tests may be reading
  // it now, so it is not rebuilt under them); run alone, the test builds it when it is stale.
  if (await distIsStale()) await run("npm", ["run", "build"], { cwd: packageDir })
  const { stdout } = await run(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", work],
    { cwd: packageDir },
  )
  packed = JSON.parse(stdout.slice(stdout.indexOf("[")))[0]
  const tarball = join(work, packed.filename)
  for (const consumer of ["vite-react", "node"]) {
    await cp(join(consumers, consumer), join(work, consumer), { recursive: true })
    const manifestPath = join(work, consumer, "package.json")
    const manifest = JSON.parse(await readFile(manifestPath, "utf8"))
    manifest.dependencies = { ...manifest.dependencies, "@txn/client": `file:${tarball}` }
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2))
  }
  // The root's devDependencies put the app's packages in npm's cache: no download when cached.
  const install = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
  await Promise.all([run("npm", install, { cwd: app() }), run("npm", install, { cwd: script() })])
  api = await startTestApi({ corsOrigins: ["http://127.0.0.1:*"] })
  // Two installs from npm's cache: minutes when the other packages' tests share the machine.
}, 480_000)

afterAll(async () => {
  await api?.close()
  if (work !== undefined) await rm(work, { recursive: true, force: true })
})

describe("npm pack of @txn/client", () => {
  it("holds only what a user needs: the built module, its declarations, README, LICENSE", async () => {
    expect(packed.files.map((file) => file.path).sort()).toEqual([
      "LICENSE",
      "README.md",
      "dist/index.d.ts",
      "dist/index.js",
      "package.json",
    ])
    const installed = join(app(), "node_modules/@txn/client")
    const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8"))
    expect(manifest).not.toHaveProperty("private")
    expect(manifest).toMatchObject({
      license: "MIT",
      type: "module",
      sideEffects: false,
      engines: { node: ">=20" },
      exports: { ".": { types: "./dist/index.d.ts", import: "./dist/index.js" } },
    })
    expect(Object.keys(manifest.dependencies).sort()).toEqual([
      "@trpc/client",
      "@trpc/server",
      "eventsource",
    ])
    // The module and its declarations import tRPC and the EventSource of live changes only: no
    // server code, no Effect, no Node.
    for (const file of ["dist/index.js", "dist/index.d.ts"]) {
      const text = await readFile(join(installed, file), "utf8")
      const imported = [...text.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1])
      expect(
        imported.filter(
          (specifier) => !specifier!.startsWith("@trpc/") && specifier !== "eventsource",
        ),
      ).toEqual([])
    }
  })
})

describe("a stock Vite + React + TypeScript app using the packed client", () => {
  it("builds with tsc -b && vite build, its type tests (@ts-expect-error) included", async () => {
    await run("npm", ["run", "build"], { cwd: app() })
    expect(existsSync(join(app(), "dist/index.html"))).toBe(true)
  })

  it("type-checks without reading any file of the monorepo, Effect or the server", async () => {
    const { stdout } = await run(
      join(app(), "node_modules/.bin/tsc"),
      ["-p", "tsconfig.app.json", "--listFilesOnly"],
      { cwd: app() },
    )
    const files = stdout.split("\n").filter((line) => line.trim() !== "")
    expect(files.some((file) => file.includes("node_modules/@txn/client/dist/index.d.ts"))).toBe(
      true,
    )
    expect(files.filter((file) => file.includes("src/typeTests.ts"))).toHaveLength(1)
    const foreign = files.filter(
      (file) =>
        file.startsWith(repoRoot) ||
        /\/(apps|packages\/(db|queue|platform|domain))\//.test(file) ||
        /node_modules\/(effect|@effect|bullmq|ioredis)\//.test(file),
    )
    expect(foreign).toEqual([])
  })

  it.skipIf(!hasChromium)(
    `runs in headless Chromium with a client token from its own server, and watches a transaction arrive live${hasChromium ? "" : " (skipped: no Chromium at /usr/bin/chromium; .ci/run installs it)"}`,
    async () => {
      // The app's backend: it holds the secret key and mints the page a token for one account.
      const account = await api.rest("POST", "/v1/accounts", {
        body: { name: "Browser wallet", currency: "EUR" },
      })
      let minted = 0
      const site = await serveStatic(join(app(), "dist"), {
        "/api/txn-token": async () => {
          minted++
          const answer = await api.rest("POST", "/v1/tokens", {
            body: { scopes: ["read", "write"], accountIds: [account.body.id], ttlSeconds: 300 },
          })
          return answer.body.token as string
        },
      })
      const browser = await launchChromium()
      try {
        const page = await browser.newPage()
        const failures: Array<string> = []
        page.on("pageerror", (error) => failures.push(error.message))
        const credentials = new Set<string>()
        page.on("request", (request) => {
          if (request.url().startsWith(api.url)) {
            credentials.add((request.headers().authorization ?? "none").slice(0, 13))
          }
        })
        const query = new URLSearchParams({ api: api.url, account: account.body.id })
        await page.goto(`${site.url}/?${query}`)
        await page.waitForSelector("#live, #failed", { timeout: 20_000 })
        expect(await page.locator("#failed").count()).toBe(0)
        expect(await page.textContent("#account")).toBe("Browser wallet (EUR)")
        expect(await page.textContent("#transaction")).toBe(
          'credit 1250 EUR posted "From the browser"',
        )
        expect(await page.textContent("#missing")).toBe("NotFound transaction")
        expect(await page.textContent("#forbidden")).toBe("Forbidden")
        // One page load made one transaction, and the live stream brought exactly it.
        const listed = await api.rest("GET", `/v1/transactions?accountId=${account.body.id}`)
        expect(listed.body.items).toHaveLength(1)
        expect(await page.textContent("#live")).toBe("created this transaction")
        expect(failures).toEqual([])
        // Every call the page made carried a client token, never the secret key.
        expect(minted).toBeGreaterThan(0)
        expect([...credentials]).toEqual(["Bearer txnct_"])
        const bundle = await readdir(join(app(), "dist/assets"))
        for (const file of bundle) {
          expect(await readFile(join(app(), "dist/assets", file), "utf8")).not.toContain(api.key)
        }
      } finally {
        await browser.close()
        await site.close()
      }
    },
  )
})

describe("a plain script using the packed client", () => {
  const runtimes: Array<{ name: string; command: string; args: Array<string> }> = [
    { name: "Node 24", command: process.execPath, args: ["main.js"] },
    { name: "Node 20 (the machine's)", command: "/usr/bin/node", args: ["main.js"] },
    {
      name: "Deno",
      command: bin("deno"),
      args: ["run", "--allow-env", "--allow-net", "--allow-read", "main.js"],
    },
    { name: "Bun", command: bin("bun"), args: ["main.js"] },
  ]
  for (const runtime of runtimes) {
    const missing = !existsSync(runtime.command)
    it.skipIf(missing)(
      `runs on ${runtime.name}${missing ? ` (skipped: ${runtime.command} is missing)` : ""}`,
      async () => {
        const { stdout } = await run(runtime.command, runtime.args, {
          cwd: script(),
          env: { TXN_URL: api.url, TXN_API_KEY: api.key, DENO_NO_UPDATE_CHECK: "1" },
        })
        const result = JSON.parse(stdout.trim().split("\n").at(-1)!)
        expect(result.account).toMatchObject({
          name: "Script",
          currency: "USD",
          userId: api.userId,
        })
        expect(result.read).toMatchObject({
          accountId: result.account.id,
          direction: "credit",
          amount: 725,
          description: "From a script",
          status: "posted",
        })
        expect(result.missing).toBe("NotFound")
        expect(result.webhook).toBe("WebhookVerificationError")
      },
    )
  }
})
