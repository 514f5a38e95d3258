import { once } from "node:events"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { eventually } from "@txn/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type ApiProcess, startApiProcess } from "./apiProcess.ts"
import { startTestApi, type TestApi } from "./harness.ts"

interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes: ReadonlyArray<{ key: string; value: { stringValue?: string } }>
}

/** An OpenTelemetry collector's OTLP/HTTP traces endpoint, keeping what it is sent (JSON). */
const startCollector = async () => {
  const spans: Array<Span & { service: string | undefined }> = []
  const server: Server = createServer(async (request, response) => {
    const chunks: Array<Buffer> = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    if (request.method === "POST" && request.url === "/v1/traces") {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
      for (const resource of body.resourceSpans ?? []) {
        const service = resource.resource?.attributes?.find(
          (attribute: { key: string }) => attribute.key === "service.name",
        )?.value?.stringValue
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) spans.push({ ...span, service })
        }
      }
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}")
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((done) => server.close(() => done())),
  }
}

const attribute = (span: Span, key: string) =>
  span.attributes.find((found) => found.key === key)?.value.stringValue

describe("traces over OTLP", () => {
  let collector: Awaited<ReturnType<typeof startCollector>>
  let api: TestApi
  beforeAll(async () => {
    collector = await startCollector()
    api = await startTestApi({
      tracing: {
        url: `${collector.url}/v1/traces`,
        serviceName: "txn-api-test",
        exportIntervalMs: 100,
      },
    })
  })
  afterAll(async () => {
    await api.close()
    await collector.close()
  })

  it("sends each request's span with its request id, as its log line and x-request-id carry it, with the use case's spans inside", async () => {
    const requestId = `trace-${Date.now()}`
    const created = await api.call(
      "accounts.create",
      { name: "Traced", currency: "USD" },
      { headers: { "x-request-id": requestId } },
    )
    expect(created.status).toBe(200)
    expect(created.headers.get("x-request-id")).toBe(requestId)
    const root = await eventually(
      async () =>
        collector.spans.find(
          (span) => span.name === "txn.request" && attribute(span, "txn.request_id") === requestId,
        ),
      { what: "the request's span at the collector" },
    )
    expect(root.service).toBe("txn-api-test")
    expect(attribute(root, "txn.user_id")).toBe(api.userId)
    // Spans of the work it did, in the same trace beneath it.
    await eventually(async () =>
      collector.spans.some(
        (span) => span.traceId === root.traceId && span.parentSpanId === root.spanId,
      )
        ? true
        : undefined,
    )
    expect(
      api.logs.lines.some((line) => line.msg === "request" && line.requestId === requestId),
    ).toBe(true)
  })
})

describe("traces of the API started as npm start starts it", () => {
  let collector: Awaited<ReturnType<typeof startCollector>>
  let process: ApiProcess
  beforeAll(async () => {
    collector = await startCollector()
    process = await startApiProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url })
    await process.waitFor("api listening")
  })
  afterAll(async () => {
    if (process?.proc.exitCode === null) {
      process.proc.kill("SIGTERM")
      await once(process.proc, "exit")
    }
    await collector.close()
  })

  it("sends them to OTEL_EXPORTER_OTLP_ENDPOINT as the service txn-api", async () => {
    const response = await fetch(`http://127.0.0.1:${process.port}/trpc/accounts.list`, {
      headers: { authorization: "Bearer txn_not-a-key", "x-request-id": "process-trace-1" },
    })
    expect(response.status).toBe(401)
    const user = await fetch(`http://127.0.0.1:${process.port}/trpc/admin.users.create`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${process.adminToken}`,
        "content-type": "application/json",
        "x-request-id": "process-trace-2",
      },
      body: JSON.stringify({ name: "Traced" }),
    })
    expect(user.status).toBe(200)
    const root = await eventually(
      async () =>
        collector.spans.find((span) => attribute(span, "txn.request_id") === "process-trace-2"),
      { what: "the request's span at the collector", timeoutMs: 15_000 },
    )
    expect(root.service).toBe("txn-api")
  })
})
