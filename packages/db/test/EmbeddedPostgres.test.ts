import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { existsSync } from "node:fs"
import { rm } from "node:fs/promises"
import { createConnection, createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { eventually, testDatabaseUrl } from "@txn/testing"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { afterAll, describe, expect, it, onTestFinished } from "vitest"
import { type EmbeddedDatabase, startEmbeddedPostgres } from "../src/EmbeddedPostgres.ts"

// Under the repository, not /tmp: as root PostgreSQL runs as `postgres`, which must be able to
// traverse every parent directory of its data.
const root = fileURLToPath(
  new URL(`../../../.data/test-embedded-${randomBytes(6).toString("hex")}`, import.meta.url),
)

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0))
    })
  })

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

const withClient = async <A>(db: EmbeddedDatabase, use: (client: pg.Client) => Promise<A>) => {
  const client = new pg.Client({ connectionString: Redacted.value(db.url) })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

const started: Array<EmbeddedDatabase> = []
const start = async (dataDir: string, port: number) => {
  const db = await startEmbeddedPostgres({ dataDir: `${root}/${dataDir}`, port, database: "probe" })
  started.push(db)
  return db
}

afterAll(async () => {
  // A failed test may leave a server up; stopping twice is harmless.
  for (const db of started.reverse()) await db.stop().catch(() => {})
  await rm(root, { recursive: true, force: true })
})

describe("startEmbeddedPostgres", { timeout: 120_000 }, () => {
  it("starts a server whose stop() closes the port, then reuses its data on the next start", async () => {
    const port = await freePort()
    const first = await start("reuse", port)
    expect(new URL(Redacted.value(first.url)).pathname).toBe("/probe")
    await withClient(first, async (client) => {
      await client.query("create table notes (body text not null)")
      await client.query("insert into notes (body) values ($1)", ["kept across restarts"])
    })

    expect(existsSync(`${root}/reuse/postgres/PG_VERSION`)).toBe(true)

    await first.stop()
    expect(await accepts(port)).toBe(false)

    const second = await start("reuse", port)
    const rows = await withClient(second, (client) => client.query("select body from notes"))
    expect(rows.rows).toEqual([{ body: "kept across restarts" }])

    await second.stop()
    expect(await accepts(port)).toBe(false)
  })

  it("shares a running server: the sharer's stop() leaves it up, the starter's brings it down", async () => {
    const port = await freePort()
    const starter = await start("share", port)
    const sharer = await start("share", port)
    expect(Redacted.value(sharer.url)).toBe(Redacted.value(starter.url))

    await sharer.stop()
    expect(await accepts(port)).toBe(true)
    const rows = await withClient(starter, (client) => client.query("select 1 as up"))
    expect(rows.rows).toEqual([{ up: 1 }])

    await starter.stop()
    expect(await accepts(port)).toBe(false)
  })

  it("runs the server outside the starter's process group, and stops it when the starter dies", async () => {
    const port = await freePort()
    const module = fileURLToPath(new URL("../src/EmbeddedPostgres.ts", import.meta.url))
    // A starter that is killed outright, never calling stop().
    const starter = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { startEmbeddedPostgres } = await import(${JSON.stringify(module)})
         await startEmbeddedPostgres({ dataDir: ${JSON.stringify(`${root}/orphan`)}, port: ${port} })
         process.on("SIGINT", () => console.log("interrupted"))
         // Gone with the test run, even if the run itself is killed.
         process.stdin.on("close", () => process.exit(1)).resume()
         console.log("up")
         setInterval(() => {}, 1000)`,
      ],
      { stdio: ["pipe", "pipe", "inherit"], detached: true },
    )
    onTestFinished(() => {
      if (starter.exitCode === null) starter.kill("SIGKILL")
    })
    await once(starter.stdout, "data")
    expect(await accepts(port)).toBe(true)

    // Ctrl-C reaches a terminal's whole foreground group: the database must not be in it.
    process.kill(-(starter.pid ?? 0), "SIGINT")
    await once(starter.stdout, "data")
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await accepts(port)).toBe(true)

    // The starter dies without calling stop(): the server notices and shuts down.
    starter.kill("SIGKILL")
    await eventually(async () => ((await accepts(port)) ? undefined : true), {
      what: "the orphaned server to stop",
    })
  })

  it("refuses another PostgreSQL listening on its port, and creates nothing there", async () => {
    // The run's own server (DATABASE_URL): a PostgreSQL that is not this data directory's.
    const foreign = new URL(Redacted.value(testDatabaseUrl()))
    const port = Number(foreign.port || 5432)
    const database = `probe_${randomBytes(4).toString("hex")}`
    const attempt = startEmbeddedPostgres({ dataDir: `${root}/foreign`, port, database })
    await expect(attempt).rejects.toMatchObject({
      name: "EmbeddedPostgresError",
      message: expect.stringMatching(
        new RegExp(
          `Port ${port} .*not this project's embedded PostgreSQL.*TXN_EMBEDDED_PG_PORT.*DATABASE_URL`,
        ),
      ),
    })
    const client = new pg.Client({ connectionString: foreign.href })
    await client.connect()
    try {
      const found = await client.query("select 1 from pg_database where datname = $1", [database])
      expect(found.rowCount).toBe(0)
    } finally {
      await client.end()
    }
  })

  it("refuses a port held by something that is not PostgreSQL at all", async () => {
    const holder = createServer((socket) => socket.destroy())
    holder.listen(0, "127.0.0.1")
    await once(holder, "listening")
    onTestFinished(() => void holder.close())
    const address = holder.address()
    const port = typeof address === "object" && address ? address.port : 0
    await expect(start("held", port)).rejects.toMatchObject({
      name: "EmbeddedPostgresError",
      message: expect.stringContaining(`Port ${port} is taken`),
    })
  })
})
