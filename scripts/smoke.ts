/**
 * Smoke test of `npm start` as a new user runs it: starts it, waits for the printed URL and demo
 * API key, runs the printed curl examples, checks that a request without a key answers 401,
 * creates an account and transactions over HTTP with the key, reads them back, waits for the
 * worker to void an expired hold, receives a signed webhook, builds and downloads a CSV export,
 * checks that a second `npm start` on the same port says so and fails, runs the commands of the README and docs/
 * against it (its blocks marked `smoke` and the commands it quotes inline; see scripts/readme.ts),
 * then stops it as Ctrl-C does (SIGINT to its process group) and checks that everything, embedded
 * PostgreSQL included, shuts down cleanly. Then it runs their other long-running commands
 * (`npm run dev`, `npm start -w …`, production mode) until each is ready, and stops each.
 * Exits non-zero on the first thing that is wrong.
 */
import { execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { readdir, readFile, rm, stat } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { createConnection } from "node:net"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { signatureHeader, verifyWebhook, type WebhookEvent } from "@txn/client"
import { loadConfigOrExit } from "@txn/config"
import { demoUserId } from "./demoApiKey.ts"
import {
  commandsOf,
  locate,
  longRunning,
  readDocs,
  readmeBlocks,
  smokeInlineCommands,
} from "./readme.ts"

const config = loadConfigOrExit()
const base = `http://127.0.0.1:${config.port}`
const root = fileURLToPath(new URL("../", import.meta.url))
const readme = readDocs()

/** A shell command to its end (or killed with its process group after `timeoutMs`). */
const sh = async (command: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 180_000) => {
  const child = spawn("sh", ["-c", command], {
    cwd: root,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8")
  })
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8")
  })
  const killer = setTimeout(() => {
    try {
      process.kill(-(child.pid ?? 0), "SIGKILL")
    } catch {}
  }, timeoutMs)
  const [code] = (await once(child, "close")) as [number | null]
  clearTimeout(killer)
  return { code, stdout, stderr }
}

// What the README says to set before `npm start` (the admin token), set the way it says.
const readmeEnv: Record<string, string> = {}
for (const block of readmeBlocks(readme).filter((b) => b.run === "smoke")) {
  for (const line of block.code.split("\n")) {
    const variable = /^export (\w+)=.*#\s*set before npm start/.exec(line)?.[1]
    if (variable === undefined) continue
    const { stdout } = await sh(`${line}\nprintf %s "$${variable}"`)
    readmeEnv[variable] = stdout
  }
}

const startedAt = Date.now()
// Its own process group, so the whole tree can be signalled like a terminal does on Ctrl-C; the
// webhook receiver below listens on 127.0.0.1, which webhooks reach only with private targets on.
const app = spawn("npm", ["start"], {
  detached: true,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, ...readmeEnv, TXN_WEBHOOK_ALLOW_PRIVATE: "true" },
})
const signalAll = (signal: NodeJS.Signals) => {
  try {
    process.kill(-(app.pid ?? 0), signal)
  } catch {}
}
let output = ""
app.stdout.on("data", (chunk: Buffer) => {
  output += chunk.toString("utf8")
})
app.once("exit", (code) => {
  if (!stopping) fail(`npm start exited early with code ${code}\n${output}`)
})
let stopping = false

function fail(message: string): never {
  const tail = output
    .split("\n")
    .filter((line) => !line.includes('"msg":"request"'))
    .slice(-30)
  console.error(`smoke test failed: ${message}\nLast lines of npm start:\n${tail.join("\n")}`)
  signalAll("SIGKILL")
  process.exit(1)
}

const check = (ok: boolean, what: string) => {
  if (!ok) fail(what)
  console.log(`  ok  ${what}`)
}

const until = async <A>(what: string, probe: () => Promise<A | undefined>, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return fail(`timed out waiting for ${what}`)
}

interface Answer {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field below
  readonly data: any
}

let apiKey = ""

/** A tRPC call over HTTP with the demo key, or with `auth` as the bearer token (null: none). */
const call = async (
  method: "GET" | "POST",
  path: string,
  input: unknown,
  auth: string | null = apiKey,
): Promise<Answer> => {
  const url =
    method === "GET"
      ? `${base}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`
      : `${base}/trpc/${path}`
  const response = await fetch(url, {
    method,
    headers: {
      "content-type": "application/json",
      ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
    },
    ...(method === "POST" ? { body: JSON.stringify(input) } : {}),
  })
  const body = (await response.json()) as { result?: { data: unknown }; error?: unknown }
  return { status: response.status, data: body.result?.data ?? body.error }
}

await until("the ready banner", async () =>
  output.includes(`Transaction API ready at ${base}`) && output.includes("More users and keys")
    ? true
    : undefined,
)
console.log(`npm start ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`)

const banner = output.slice(output.indexOf(`Transaction API ready at ${base}`))
apiKey = /^ {4}(txn_[A-Za-z0-9_-]{43})$/m.exec(banner)?.[1] ?? fail("no demo API key in the banner")
check(true, "the banner prints a demo API key")
const keyFile = resolve(
  fileURLToPath(new URL("../", import.meta.url)),
  config.dataDir,
  "demo-api-key",
)
const { mode } = await stat(keyFile)
check((mode & 0o777) === 0o600, `the demo key is kept in ${config.dataDir}/demo-api-key, mode 0600`)

// The banner's examples, run as printed, as someone pasting them into a shell would.
const examples = banner
  .replace(/\\\n\s*/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line.startsWith("curl "))
check(
  examples.length === 2 && examples.every((line) => line.includes(`Bearer ${apiKey}`)),
  "the banner's curl examples send the demo key",
)
const hasCurl = (() => {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()
if (hasCurl) {
  const [create, list] = examples.map((line) =>
    JSON.parse(execFileSync("sh", ["-c", line], { encoding: "utf8" })),
  )
  check(
    create?.name === "Wallet" && create?.currency === "USD",
    "the printed curl creates an account",
  )
  check(
    list?.items?.some((item: { id: string }) => item.id === create.id) === true,
    "the printed curl lists it",
  )
} else {
  console.log("  --  curl is not installed: the printed examples were not run")
}
// The dashboard npm start built: its page at the printed URL, and the script that page loads.
const dashboardUrl = /Dashboard: (\S+)/.exec(banner)?.[1]
const dashboardPage = await fetch(dashboardUrl ?? `${base}/app/`)
const dashboardHtml = await dashboardPage.text()
const dashboardScript = /src="(\/app\/assets\/[^"]+\.js)"/.exec(dashboardHtml)?.[1]
const script = dashboardScript === undefined ? undefined : await fetch(`${base}${dashboardScript}`)
check(
  dashboardUrl === `${base}/app/` &&
    dashboardPage.status === 200 &&
    script?.status === 200 &&
    script.headers.get("cache-control") === "public, max-age=31536000, immutable",
  "npm start builds the dashboard and prints its URL; its page and hashed script answer",
)
const docs = await fetch(`${base}/docs`)
check(
  banner.includes(`${base}/docs`) && docs.status === 200 && (await docs.text()).includes("Scalar"),
  "the banner prints the docs URL, and /docs answers",
)

const anonymous = await call("GET", "accounts.list", {}, null)
check(
  anonymous.status === 401 && anonymous.data.data.tag === "Unauthorized",
  "a request without an API key answers 401",
)
const unknown = await call("GET", "accounts.list", {}, `txn_${"A".repeat(43)}`)
check(unknown.status === 401, "a request with an unknown API key answers 401")

const account = await call("POST", "accounts.create", { name: "Smoke wallet", currency: "EUR" })
check(account.status === 200 && account.data.currency === "EUR", "accounts.create")
const smokeAccountId: string = account.data.id
const overdraft = await call("POST", "transactions.create", {
  accountId: account.data.id,
  direction: "debit",
  amount: 1250,
  currency: "EUR",
})
check(
  overdraft.status === 422 && overdraft.data.data.tag === "InsufficientFunds",
  "a debit beyond the balance answers 422 InsufficientFunds",
)
const topUp = await call("POST", "transactions.create", {
  accountId: account.data.id,
  direction: "credit",
  amount: 5000,
  currency: "EUR",
  description: "Top-up",
})
check(topUp.status === 200, "transactions.create (a credit)")
const posted = await call("POST", "transactions.create", {
  accountId: account.data.id,
  direction: "debit",
  amount: 1250,
  currency: "EUR",
  description: "Coffee beans",
  category: "groceries",
})
check(posted.status === 200 && posted.data.status === "posted", "transactions.create (posted)")

const readAccount = await call("GET", "accounts.get", { id: account.data.id })
check(readAccount.status === 200 && readAccount.data.name === "Smoke wallet", "accounts.get")
const readBack = await call("GET", "transactions.get", { id: posted.data.id })
check(
  readBack.status === 200 && readBack.data.amount === 1250 && readBack.data.version === 1,
  "transactions.get",
)
const listed = await call("GET", "transactions.list", {
  accountId: account.data.id,
  search: "coffee",
})
check(
  listed.status === 200 &&
    listed.data.items.length === 1 &&
    listed.data.items[0].id === posted.data.id,
  "transactions.list with a text search",
)
const invalid = await call("POST", "transactions.create", { accountId: "nope", amount: -1 })
check(invalid.status === 400 && invalid.data.data.tag === "ValidationError", "bad input is a 400")

// A webhook receiver as a user would write one: every request's signature checked.
let webhookSecret = ""
const delivered: Array<WebhookEvent> = []
const receiver = createServer(async (request, response) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  try {
    delivered.push(
      await verifyWebhook({
        payload: Buffer.concat(chunks).toString("utf8"),
        signature: request.headers[signatureHeader] as string | undefined,
        secret: webhookSecret,
      }),
    )
    response.writeHead(204).end()
  } catch {
    response.writeHead(400).end()
  }
}).listen(0, "127.0.0.1")
await once(receiver, "listening")
const hook = await call("POST", "webhooks.create", {
  url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
  eventTypes: ["transaction.created"],
})
check(
  hook.status === 200 && hook.data.secret.startsWith("whsec_"),
  "webhooks.create shows its secret",
)
webhookSecret = hook.data.secret
const hooked = await call("POST", "transactions.create", {
  accountId: account.data.id,
  direction: "credit",
  amount: 1,
  currency: "EUR",
  // A pending credit: the balances checked below (posted, available) stay as they are.
  status: "pending",
  description: "Webhook smoke",
})
await until(
  "the worker to deliver transaction.created to the webhook",
  async () =>
    delivered.find(
      (event) => (event.data as { transaction: { id: string } }).transaction.id === hooked.data.id,
    )
      ? true
      : undefined,
  60_000,
)
check(true, "a signed transaction.created webhook arrived and verified")
const deliveries = await call("GET", "webhooks.deliveries", { id: hook.data.id })
check(
  deliveries.status === 200 && deliveries.data.items[0]?.lastStatusCode === 204,
  "webhooks.deliveries logs the receiver's status code",
)
receiver.close()
// The README's seeding below writes thousands of transaction.created events: none for this endpoint.
const deleted = await call("POST", "webhooks.delete", { id: hook.data.id })
check(deleted.status === 200 && deleted.data.deleted === true, "webhooks.delete")

const exported = await call("POST", "exports.create", { accountId: account.data.id })
check(exported.status === 200 && exported.data.status === "queued", "exports.create")
const completed = await until(
  "the worker to build the export",
  async () => {
    const read = await call("GET", "exports.get", { id: exported.data.id })
    return read.data.status === "completed" ? read.data : undefined
  },
  60_000,
)
const csv = await fetch(`${base}${completed.downloadUrl}`, {
  headers: { authorization: `Bearer ${apiKey}` },
})
const text = await csv.text()
check(
  csv.status === 200 && text.includes(posted.data.id) && text.split("\n")[0]!.startsWith("id,"),
  "the export's CSV downloads with its rows",
)

const hold = await call("POST", "transactions.create", {
  accountId: account.data.id,
  direction: "debit",
  amount: 300,
  currency: "EUR",
  status: "pending",
  expiresAt: new Date(Date.now() + 2_000).toISOString(),
})
check(hold.status === 200 && hold.data.status === "pending", "a pending hold with expiresAt")
const held = await call("GET", "accounts.balance", { id: account.data.id })
check(
  held.status === 200 && held.data.posted === 3750 && held.data.available === 3450,
  "accounts.balance: the hold reduces what is available",
)
await until(
  "the worker to void the expired hold",
  async () => {
    const read = await call("GET", "transactions.get", { id: hold.data.id })
    return read.data.status === "voided" ? true : undefined
  },
  60_000,
)
const released = await call("GET", "accounts.balance", { id: account.data.id })
check(released.data.available === 3750, "the voided hold is available again")
check(true, "the worker voided the hold once it expired")

const second = await sh("npm start", process.env, 120_000)
check(
  second.code !== 0 &&
    !second.stdout.includes("ready at") &&
    second.stderr.includes(`Port ${config.port} on ${config.host} is already in use`) &&
    second.stderr.includes("Set PORT"),
  "a second npm start on the same port says the port is taken and exits non-zero, without a banner",
)

await runReadme()

stopping = true
// stdout closes once the launcher, the API and the worker have all exited.
const closed = once(app.stdout, "close")
signalAll("SIGINT")
let timer: NodeJS.Timeout | undefined
await Promise.race([
  closed,
  new Promise((resolve) => {
    timer = setTimeout(resolve, 30_000)
  }).then(() => fail("still running 30 s after Ctrl-C")),
])
clearTimeout(timer)
const logged = output.split("\n").flatMap((line) => {
  try {
    return [JSON.parse(line).msg as string]
  } catch {
    return []
  }
})
check(
  logged.includes("api stopped") && logged.includes("worker stopped"),
  "Ctrl-C stops the API and the worker cleanly",
)
function accepts(port = config.embeddedPostgresPort) {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })
}
// The launcher stops the database last; give it a moment to let go of the port.
const closedAt = Date.now()
let listening = await accepts()
while (listening && Date.now() - closedAt < 10_000) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  listening = await accepts()
}
check(!listening, "embedded PostgreSQL stopped with it")

for (const [command, ready] of Object.entries(longRunning)) {
  if (command === "npm start") continue
  await runUntilReady(command, ready)
}
check(!(await accepts()), "embedded PostgreSQL stopped after each of them")
console.log("smoke test passed")
process.exit(0)

/**
 * The commands of the README and docs/ against the running `npm start`, in their order: the blocks marked
 * `smoke`, one shell session per block, and the commands quoted inline that neither CI runs nor
 * keep running. Placeholders are filled in as a reader would: `usr_…`, `key_…`, `acc_…` and `exp_…`
 * with the last such id a command before printed (else the demo user, the smoke's account), `txn_…`
 * with the demo key; a million rows to seed become a few hundred, and a benchmark runs one round
 * of a second per system.
 */
async function runReadme() {
  const lineOf = (index: number) => readme.slice(0, index).split("\n").length
  const inline = [
    ...new Map(
      smokeInlineCommands(readme).map(({ command, index }) => [
        command,
        { line: lineOf(index), commands: [command] },
      ]),
    ).values(),
  ]
  const steps = [
    ...readmeBlocks(readme)
      .filter((block) => block.run === "smoke")
      .map((block) => ({ line: block.line, commands: commandsOf(block.code) })),
    ...inline,
  ].sort((a, b) => a.line - b.line)

  let printed = ""
  const last = (pattern: RegExp) => [...printed.matchAll(pattern)].at(-1)?.[0]
  const fill = (command: string) =>
    command
      .replace(/usr_…/g, () => last(/usr_[a-z0-9]{26}/g) ?? demoUserId)
      .replace(/key_…/g, () => last(/key_[a-z0-9]{26}/g) ?? fail(`no key id for ${command}`))
      .replace(/acc_…/g, () => last(/acc_[a-z0-9]{26}/g) ?? smokeAccountId)
      .replace(/exp_…/g, () => last(/exp_[a-z0-9]{26}/g) ?? fail(`no export id for ${command}`))
      .replace(/txn_…/g, apiKey)
      .replace(/--rows [1-9]\d{3,}/g, "--rows 300")
      .replace(/^(.*\bnpm run bench\b(?!.*--seconds).*)$/, "$1 --seconds 1 --rounds 1")
      .replace(/127\.0\.0\.1:3000\b/g, `127.0.0.1:${config.port}`)
  const tools = ["curl", "jq", "psql", "openssl"].filter(
    (tool) => execFileSync("sh", ["-c", `command -v ${tool} || true`], { encoding: "utf8" }) !== "",
  )
  const externalPostgres = await accepts(5432)

  for (const step of steps) {
    // A block is one shell session: if one of its commands cannot run here, none of them does.
    const whole = step.commands.join("\n")
    const missing = ["curl", "jq", "psql", "openssl"].filter(
      (tool) => new RegExp(`(^|[\\s|(])${tool}\\s`).test(whole) && !tools.includes(tool),
    )
    if (missing.length > 0 || (whole.includes("127.0.0.1:5432") && !externalPostgres)) {
      console.log(
        `  --  ${locate(step.line)}: not run (${missing.length > 0 ? `${missing.join(", ")} not installed` : "no PostgreSQL on 127.0.0.1:5432"})`,
      )
      continue
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...readmeEnv }
    for (const written of step.commands) {
      const command = fill(written)
      const assignment = /^(?:export )?([A-Za-z_]\w*)=(\$\(.*\)|"[^"]*"|'[^']*'|\S+)$/.exec(command)
      if (assignment !== null) {
        const name = assignment[1]!
        if (name in readmeEnv) {
          check(true, `${locate(step.line)}: ${written} (set before npm start)`)
          continue
        }
        const { code, stdout, stderr } = await sh(`${command}\nprintf %s "$${name}"`, env)
        if (code !== 0 || stdout === "" || stdout === "null")
          fail(`${locate(step.line)}: ${written} set ${name} to "${stdout}"\n${stderr}`)
        env[name] = stdout
        printed += `${stdout}\n`
        check(true, `${locate(step.line)}: ${written}`)
        continue
      }
      // A download may ask before the worker has built the file, as a reader might: ask again.
      const deadline = Date.now() + (command.startsWith("curl ") ? 60_000 : 0)
      for (;;) {
        const result = await sh(command, env)
        const failed = result.code !== 0 || /^\s*\{"error"/.test(result.stdout)
        if (!failed) {
          printed += `${result.stdout}\n${result.stderr}\n`
          break
        }
        if (Date.now() > deadline)
          fail(
            `${locate(step.line)}: ${written}\nran as: ${command}\nexit ${result.code}\n${result.stdout}\n${result.stderr}`,
          )
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
      check(true, `${locate(step.line)}: ${written}`)
    }
  }

  // `curl -OJ` saved the export under its own name: it must be the CSV, and not stay behind.
  const downloads = (await readdir(root)).filter((name) => /^exp_[a-z0-9]{26}\.csv$/.test(name))
  for (const name of downloads) {
    const text = await readFile(`${root}/${name}`, "utf8")
    await rm(`${root}/${name}`)
    check(text.startsWith("id,occurredAt,"), `the README's download saved ${name}, a CSV export`)
  }
}

/** A README command that keeps running: started, awaited until it prints `ready`, stopped with Ctrl-C. */
async function runUntilReady(command: string, ready: string) {
  const child = spawn("sh", ["-c", command], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  })
  let seen = ""
  const collect = (chunk: Buffer) => {
    seen += chunk.toString("utf8")
  }
  child.stdout.on("data", collect)
  child.stderr.on("data", collect)
  const closed = once(child, "close")
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid ?? 0), signal)
    } catch {}
  }
  const deadline = Date.now() + 120_000
  while (!seen.includes(ready) && child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  if (!seen.includes(ready)) {
    group("SIGKILL")
    fail(`${command} did not print "${ready}" within 120 s\n${seen.slice(-3000)}`)
  }
  group("SIGINT")
  const stopped = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000)),
  ])
  if (!stopped) {
    group("SIGKILL")
    fail(`${command} still running 30 s after Ctrl-C\n${seen.slice(-3000)}`)
  }
  check(true, `${command}: ready, then stopped by Ctrl-C`)
}
