/**
 * What the benchmark scenarios share: a fresh, migrated database on DATABASE_URL's server or the
 * embedded PostgreSQL (as `npm start` would use), the API started on it as `npm start` starts it,
 * and what Linux's /proc says about a process (CPU time, resident memory).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { readFile } from "node:fs/promises"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { type AppConfig, loadConfigOrExit } from "@txn/config"
import { connectDatabase, createDatabase, dropDatabase, migrate } from "@txn/db"
import { Access } from "@txn/domain"
import {
  apiNodeFlags,
  compileCacheDirectory,
  makeAccessLayer,
  primeCompileCache,
} from "@txn/platform"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Nearest-rank percentile of sorted numbers. */
export const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0

export const freeLoopbackPort = async () => {
  const probe = createServer().listen(0, "127.0.0.1")
  await once(probe, "listening")
  const address = probe.address()
  probe.close()
  if (address === null || typeof address === "string") throw new Error("no free port")
  return address.port
}

/**
 * CPU time (user + system, all threads) the process has used so far, in ms, from Linux's /proc
 * (whose clock ticks are 1/100 s); undefined elsewhere, or once the process is gone.
 */
export const cpuMsOf = async (pid: number | undefined) => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined)
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat?.slice(stat.lastIndexOf(")") + 2).split(" ")
  if (fields === undefined) return undefined
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** The process's resident memory now, in bytes, from Linux's /proc; undefined elsewhere. */
export const rssOf = async (pid: number | undefined) => {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined)
  const kib = status === undefined ? undefined : /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  return kib === undefined ? undefined : Number(kib) * 1024
}

/** A database made for one benchmark run, migrated, and dropped again by `close`. */
export interface BenchDatabase {
  readonly config: AppConfig
  readonly url: string
  /** Users and API keys of the bench database. */
  readonly access: ReturnType<typeof accessRuntime>
  readonly close: () => Promise<void>
}

const accessRuntime = (url: string) =>
  ManagedRuntime.make(makeAccessLayer({ databaseUrl: Redacted.make(url), maxConnections: 1 }))

export const openBenchDatabase = async (): Promise<BenchDatabase> => {
  const config = loadConfigOrExit()
  const server = await connectDatabase(config)
  const serverUrl = new URL(Redacted.value(server.url))
  const name = `txn_bench_${Date.now()}_${randomBytes(3).toString("hex")}`
  await createDatabase(serverUrl.href, name)
  const url = new URL(serverUrl.href)
  url.pathname = `/${name}`
  const access = accessRuntime(url.href)
  const close = async () => {
    await access.dispose()
    await dropDatabase(serverUrl.href, name)
    await server.stop()
  }
  try {
    await access.runPromise(migrate.pipe(Effect.orDie))
  } catch (error) {
    await close()
    throw error
  }
  return { config, url: url.href, access, close }
}

/** Whether the bench database's server runs on this machine, so /proc shows its CPU. */
export const onThisMachine = (database: BenchDatabase) =>
  ["127.0.0.1", "localhost", "[::1]"].includes(new URL(database.url).hostname)

/** A user of the bench database with one read-write API key. */
export const benchUser = (database: BenchDatabase) =>
  database.access.runPromise(
    Access.use((access) =>
      Effect.gen(function* () {
        const user = yield* access.createUser({ name: "Bench user" })
        const { apiKey, secret } = yield* access.createApiKey({
          userId: user.id,
          name: "bench",
          scopes: ["read", "write"],
        })
        return { userId: user.id, keyId: apiKey.id, secret }
      }),
    ).pipe(Effect.orDie),
  )

/** Calls the API's tRPC procedures at `base` with `secret`, by POST: each answer's data. */
export const trpcCaller =
  (base: string, secret: string) =>
  async <A = { readonly id: string }>(path: string, input: unknown): Promise<A> => {
    const response = await fetch(`${base}/trpc/${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify(input),
    })
    const body = (await response.json()) as { result?: { data: A } }
    if (!response.ok || body.result === undefined)
      throw new Error(`${path} answered ${response.status}: ${JSON.stringify(body)}`)
    return body.result.data
  }

/** A process of the benchmark's own, listening on a loopback port. */
export interface Server {
  readonly process: ChildProcess
  readonly base: string
  readonly stop: () => Promise<void>
}

const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill("SIGTERM")
  await once(child, "exit")
}

/**
 * Runs `entry` (a path from the repository root) with Node on a free loopback port, which it is
 * given as PORT (with HOST 127.0.0.1) over this process's environment and `env`, and through
 * `args`, until `GET /readyz` answers 200.
 */
export const startServer = async (
  entry: string,
  options: {
    readonly env?: Record<string, string>
    readonly args?: (port: number) => ReadonlyArray<string>
    /** Node's own flags, before `entry`. */
    readonly nodeFlags?: ReadonlyArray<string>
  },
): Promise<Server> => {
  const port = await freeLoopbackPort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), entry, ...(options.args?.(port) ?? [])],
    {
      env: { ...process.env, ...options.env, HOST: "127.0.0.1", PORT: String(port) },
      stdio: ["ignore", "ignore", "inherit"],
    },
  )
  const server = { process: child, base, stop: () => stopChild(child) }
  const deadline = Date.now() + 60_000
  const isReady = () =>
    fetch(`${base}/readyz`).then(
      (response) => response.ok,
      () => false,
    )
  while (!(await isReady())) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await server.stop()
      throw new Error(`${entry} did not start`)
    }
    await sleep(250)
  }
  return server
}

const root = fileURLToPath(new URL("../../", import.meta.url))
const apiEntry = "apps/api/src/main.ts"

/**
 * The API (`apps/api/src/main.ts`) on the bench database, started as `npm start` starts it: its
 * Node flags, and the compile cache primed first. With `TXN_BENCH_CPU_PROF=<dir>` it also runs
 * under `node --cpu-prof`, writing its CPU profile into that folder when it stops (open it in
 * Chrome DevTools or any `.cpuprofile` viewer).
 */
export const startApi = async (database: BenchDatabase, env: Record<string, string> = {}) => {
  await primeCompileCache(root, apiEntry, apiNodeFlags)
  const profileDir = process.env.TXN_BENCH_CPU_PROF
  return startServer(apiEntry, {
    nodeFlags:
      profileDir === undefined || profileDir === ""
        ? apiNodeFlags
        : [...apiNodeFlags, "--cpu-prof", `--cpu-prof-dir=${profileDir}`],
    env: { ...env, DATABASE_URL: database.url, NODE_COMPILE_CACHE: compileCacheDirectory(root) },
  })
}

/** A worker process of the benchmark's own and the JSON lines it logged. */
export interface WorkerProcess {
  readonly process: ChildProcess
  readonly stop: () => Promise<void>
}

/**
 * The worker (`apps/worker/src/main.ts`, as `npm start` runs it) on the bench database, with
 * this process's environment over `env`, once it has logged that it started. Its log lines are
 * read and dropped, as a log shipper would.
 */
export const startWorker = async (
  database: BenchDatabase,
  env: Record<string, string> = {},
  nodeArgs: ReadonlyArray<string> = [],
): Promise<WorkerProcess> => {
  const child = spawn(process.execPath, [...nodeArgs, "apps/worker/src/main.ts"], {
    env: { ...process.env, ...env, DATABASE_URL: database.url },
    stdio: ["ignore", "pipe", "inherit"],
  })
  const worker = { process: child, stop: () => stopChild(child) }
  let timer: NodeJS.Timeout | undefined
  const started = new Promise<void>((resolve, reject) => {
    let pending = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8")
      const lines = pending.split("\n")
      pending = lines.pop() ?? ""
      if (lines.some((line) => line.includes('"msg":"worker started"'))) resolve()
    })
    child.once("exit", (code) =>
      reject(new Error(`the worker exited with ${code} before it started`)),
    )
    timer = setTimeout(() => reject(new Error("the worker did not start within 60 s")), 60_000)
  })
  try {
    await started
  } catch (error) {
    await worker.stop()
    throw error
  } finally {
    clearTimeout(timer)
  }
  return worker
}
