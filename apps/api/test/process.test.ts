import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { connect } from "node:net"
import { text } from "node:stream/consumers"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { mutate, provisionKey, startApiProcess as startApi } from "./apiProcess.ts"

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))

let child: ChildProcess | undefined
afterEach(() => {
  child?.kill("SIGKILL")
})

const startApiProcess = async () => {
  const api = await startApi()
  child = api.proc
  return api
}

describe("the API process", () => {
  it("serves on the configured port, then exits 0 on SIGTERM despite an idle keep-alive connection", async () => {
    const api = await startApiProcess()
    const listening = await api.waitFor("api listening")
    expect(listening.url).toBe(`http://127.0.0.1:${api.port}`)

    const { secret: key } = await provisionKey(listening.url, api.adminToken)
    const created = await mutate(listening.url, key, "accounts.create", {
      name: "Process test",
      currency: "USD",
    })
    expect(created).toMatchObject({ name: "Process test", currency: "USD" })
    // A keep-alive connection left open must not hold the shutdown up.
    const idle = await fetch(`${listening.url}/healthz`, { keepalive: true })
    expect(idle.status).toBe(200)

    api.proc.kill("SIGTERM")
    const [code] = await once(api.proc, "exit")
    expect(code).toBe(0)
    expect(api.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining(["api shutting down", "api stopped"]),
    )
    expect(api.lines.find((line) => line.msg === "api shutting down")?.signal).toBe("SIGTERM")
  })

  it("finishes a request in flight when SIGTERM arrives, then exits 0", async () => {
    const api = await startApiProcess()
    const listening = await api.waitFor("api listening")
    const { secret: key } = await provisionKey(listening.url, api.adminToken)
    const body = JSON.stringify({ name: "In flight", currency: "EUR" })
    const socket = connect(api.port, "127.0.0.1")
    await once(socket, "connect")
    const answer = text(socket)
    // Headers and half the body now; the rest only after the signal.
    socket.write(
      `POST /trpc/accounts.create HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body.slice(0, 10)}`,
    )
    await new Promise((resolve) => setTimeout(resolve, 200))
    api.proc.kill("SIGTERM")
    await api.waitFor("api shutting down")
    // Not end(): a client that half-closes has, to Node's HTTP server, given up on its request.
    socket.write(body.slice(10))

    const raw = await answer
    expect(raw).toMatch(/^HTTP\/1\.1 200 /)
    // The answer is sent whole, with its length.
    expect(raw).toMatch(/\r\ncontent-length: \d+\r\n/i)
    const json = raw.slice(raw.indexOf("\r\n\r\n") + 4)
    expect(JSON.parse(json).result.data).toMatchObject({
      name: "In flight",
      currency: "EUR",
    })
    const [code] = await once(api.proc, "exit")
    expect(code).toBe(0)
    // New connections are refused once it has stopped.
    await expect(fetch(`${listening.url}/healthz`)).rejects.toThrow()
  })

  it("refuses to start with a bad configuration, naming the variable", async () => {
    const proc = spawn(process.execPath, [main], {
      env: { PATH: process.env.PATH, DATABASE_URL: "mysql://nope", PORT: "99999" },
      stdio: ["ignore", "pipe", "pipe"],
    })
    child = proc
    let output = ""
    proc.stdout.on("data", (chunk) => {
      output += chunk
    })
    proc.stderr.on("data", (chunk) => {
      output += chunk
    })
    const [code] = await once(proc, "exit")
    expect(code).not.toBe(0)
    expect(output).toContain("DATABASE_URL")
    expect(output).toContain("PORT")
    expect(output).not.toContain("mysql://nope")
  })
})
