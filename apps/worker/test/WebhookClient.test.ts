import type { LookupAddress, LookupOptions } from "node:dns"
import { once } from "node:events"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo, LookupFunction } from "node:net"
import { isAllowedAddress } from "@txn/platform"
import type { buildConnector } from "undici"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  guardConnector,
  guardLookup,
  makeWebhookClient,
  WebhookTargetRefused,
} from "../src/WebhookClient.ts"

const allowedOff = (address: string) => isAllowedAddress(address, { allowPrivate: false })

/** A resolver that answers `addresses` for every name without asking DNS, and records the names. */
const resolver = (addresses: ReadonlyArray<string>) => {
  const asked: Array<string> = []
  const lookup: LookupFunction = (hostname, options, callback) => {
    asked.push(hostname)
    const all: Array<LookupAddress> = addresses.map((address) => ({
      address,
      family: address.includes(":") ? 6 : 4,
    }))
    if (options.all === true) callback(null, all)
    else callback(null, all[0]!.address, all[0]!.family)
  }
  return { lookup, asked }
}

/** What a guarded lookup hands the socket: the error, or the addresses it would connect to. */
const resolveWith = (lookup: LookupFunction, options: LookupOptions) =>
  new Promise<{ error: Error | null; address: string | ReadonlyArray<LookupAddress> }>(
    (resolve) => {
      lookup("good.example", options, (error, address) => resolve({ error, address }))
    },
  )

describe("guardLookup", () => {
  const refusedAnswers: Array<ReadonlyArray<string>> = [
    ["127.0.0.1"],
    ["10.0.0.1"],
    ["172.16.5.4"],
    ["192.168.0.10"],
    ["169.254.169.254"],
    ["100.64.0.1"],
    ["0.0.0.0"],
    ["::1"],
    ["fd00::1"],
    ["fe80::1"],
    ["fd00:ec2::254"],
    ["::ffff:127.0.0.1"],
    ["::ffff:169.254.169.254"],
    ["64:ff9b::a00:1"],
    ["2002:7f00:1::"],
    ["8.8.8.8", "10.0.0.1"],
    ["2606:4700:4700::1111", "::1"],
    [],
  ]

  for (const answer of refusedAnswers) {
    for (const all of [false, true]) {
      it(`refuses a name resolving to [${answer.join(", ")}] (all: ${all}) and gives no address`, async () => {
        const { error, address } = await resolveWith(
          guardLookup(resolver(answer).lookup, allowedOff),
          { all },
        )
        expect(error).toBeInstanceOf(WebhookTargetRefused)
        expect(address).toBe("")
      })
    }
  }

  it("hands on every address of a name that resolves to public ones only", async () => {
    const lookup = guardLookup(resolver(["8.8.8.8", "2606:4700:4700::1111"]).lookup, allowedOff)
    expect(await resolveWith(lookup, { all: true })).toEqual({
      error: null,
      address: [
        { address: "8.8.8.8", family: 4 },
        { address: "2606:4700:4700::1111", family: 6 },
      ],
    })
    expect(await resolveWith(lookup, { all: false })).toEqual({ error: null, address: "8.8.8.8" })
  })

  it("passes the resolver's own failure on", async () => {
    const failing: LookupFunction = (hostname, _options, callback) =>
      callback(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }),
        "",
      )
    const { error } = await resolveWith(guardLookup(failing, allowedOff), { all: true })
    expect(error).toMatchObject({ code: "ENOTFOUND" })
  })
})

describe("guardConnector", () => {
  /** A connector that never opens a socket: it only records the hosts it was asked for. */
  const recording = () => {
    const hosts: Array<string> = []
    const connect: buildConnector.connector = (options, callback) => {
      hosts.push(options.hostname)
      callback(new Error("not connecting in a test"), null)
    }
    return { connect, hosts }
  }
  const attempt = (connect: buildConnector.connector, hostname: string) =>
    new Promise<Error | null>((resolve) => {
      connect({ hostname, protocol: "http:", port: "80" }, (...[error]) => resolve(error))
    })

  it.each([
    "10.0.0.1",
    "169.254.169.254",
    "127.0.0.1",
    "0.0.0.0",
    "::1",
    "[::1]",
    "fd00::1",
    "[fd00:ec2::254]",
    "::ffff:7f00:1",
  ])("refuses the IP address %s before anything connects", async (hostname) => {
    const { connect, hosts } = recording()
    expect(await attempt(guardConnector(connect, allowedOff), hostname)).toBeInstanceOf(
      WebhookTargetRefused,
    )
    expect(hosts).toEqual([])
  })

  it.each(["good.example", "8.8.8.8", "2606:4700:4700::1111"])(
    "hands %s on (names are checked by the lookup)",
    async (hostname) => {
      const { connect, hosts } = recording()
      await attempt(guardConnector(connect, allowedOff), hostname)
      expect(hosts).toEqual([hostname])
    },
  )
})

describe("makeWebhookClient against a receiver on 127.0.0.1", () => {
  let connections = 0
  const requests: Array<IncomingHttpHeaders> = []
  const server = createServer((request, response) => {
    requests.push(request.headers)
    // Receivers often answer with a body; /hooks/ok says so, as many frameworks do.
    if (request.url === "/hooks/ok")
      response.writeHead(200, { "content-type": "text/plain" }).end("ok")
    else response.writeHead(204).end()
  })
  server.on("connection", () => {
    connections += 1
  })
  let port = 0
  beforeAll(async () => {
    server.listen(0, "127.0.0.1")
    await once(server, "listening")
    port = (server.address() as AddressInfo).port
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })

  const post = (client: ReturnType<typeof makeWebhookClient>, url: string) =>
    client.post(url, { body: "{}", headers: {}, signal: AbortSignal.timeout(10_000) })

  /** The rejection `promise` ends with; fails the test if it fulfils. */
  const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
    try {
      await promise
    } catch (error) {
      return error as Error
    }
    throw new Error("Expected the request to fail")
  }

  it("refuses a name that resolves to 127.0.0.1, with no connection made", async () => {
    const { lookup, asked } = resolver(["127.0.0.1"])
    const client = makeWebhookClient({ allowPrivate: false, lookup })
    const before = { connections, requests: requests.length }
    const error = await rejectionOf(post(client, `http://good.example:${port}/hooks`))
    expect(error.cause).toBeInstanceOf(WebhookTargetRefused)
    expect(asked).toEqual(["good.example"])
    expect({ connections, requests: requests.length }).toEqual(before)
    await client.close()
  })

  it("refuses a URL naming a loopback address before resolving or connecting", async () => {
    const { lookup, asked } = resolver(["127.0.0.1"])
    const client = makeWebhookClient({ allowPrivate: false, lookup })
    const before = connections
    for (const host of ["127.0.0.1", "0x7f.1", "2130706433", "[::ffff:127.0.0.1]", "localhost"]) {
      expect(await rejectionOf(post(client, `http://${host}:${port}/hooks`))).toBeInstanceOf(
        WebhookTargetRefused,
      )
    }
    expect(asked).toEqual([])
    expect(connections).toBe(before)
    await client.close()
  })

  it("with private targets on, connects to the address the lookup gave", async () => {
    const { lookup, asked } = resolver(["127.0.0.1"])
    const client = makeWebhookClient({ allowPrivate: true, lookup })
    const response = await post(client, `http://good.example:${port}/hooks`)
    expect(response.status).toBe(204)
    expect(asked).toEqual(["good.example"])
    expect(requests.at(-1)?.host).toBe(`good.example:${port}`)
    await client.close()
  })

  it("sends deliveries one after another over kept-alive connections, the answers' bodies read and dropped", async () => {
    const { lookup, asked } = resolver(["127.0.0.1"])
    const client = makeWebhookClient({ allowPrivate: true, lookup })
    const before = connections
    for (let i = 0; i < 10; i++) {
      expect((await post(client, `http://good.example:${port}/hooks/ok`)).status).toBe(200)
    }
    // undici opens a second socket while the first answer is being finished, then reuses both.
    expect(connections - before).toBeLessThanOrEqual(2)
    // The guarded lookup runs per connection made, before it is made.
    expect(asked.length).toBe(connections - before)
    await client.close()
  })
})
