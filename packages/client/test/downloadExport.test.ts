import { PgExportBuilder } from "@txn/db"
import type { ExportId } from "@txn/domain"
import { parse } from "csv-parse/sync"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startTestApi, type TestApi } from "../../../apps/api/test/harness.ts"
import {
  createTxnClient,
  downloadExport,
  ExportDownloadError,
  type TxnClient,
} from "../src/index.ts"
import { rejectionOf } from "./rejectionOf.ts"

let api: TestApi
let client: TxnClient
beforeAll(async () => {
  api = await startTestApi()
  client = createTxnClient({ url: api.url, apiKey: api.key })
})
afterAll(() => api.close())

describe("downloadExport", () => {
  it("downloads a completed export's CSV, typed from exports.create to the file", async () => {
    const account = await client.accounts.create.mutate({ name: "Export", currency: "USD" })
    const created = await client.transactions.create.mutate({
      accountId: account.id,
      direction: "credit",
      amount: 4_200,
      currency: "USD",
      description: "Salary, March",
    })
    const requested = await client.exports.create.mutate({ accountId: account.id })
    expect(requested.status).toBe("queued")
    // The worker's part, run here on the API's database.
    await api.runtime.runPromise(PgExportBuilder.build(requested.id as ExportId))
    const ready = await client.exports.get.query({ id: requested.id })
    expect(ready).toMatchObject({ status: "completed", progress: 1, rowsWritten: 1 })

    const response = await downloadExport({ url: `${api.url}/`, apiKey: api.key }, ready.id)
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8")
    expect(Number(response.headers.get("content-length"))).toBe(ready.bytes)
    const records = parse(await response.text(), { columns: true })
    expect(records).toEqual([
      expect.objectContaining({
        id: created.id,
        amount: "4200",
        description: "Salary, March",
        direction: "credit",
      }),
    ])
  })

  it("rejects with an ExportDownloadError carrying the tag: NotFound before completion, Unauthorized without a key", async () => {
    const requested = await client.exports.create.mutate({})
    const notReady = await rejectionOf(
      downloadExport({ url: api.url, apiKey: api.key }, requested.id),
    )
    expect(notReady).toBeInstanceOf(ExportDownloadError)
    expect(notReady).toMatchObject({
      tag: "NotFound",
      status: 404,
      requestId: expect.any(String),
      details: { resource: "export", id: requested.id },
    })
    expect((notReady as Error).message).toContain("queued")

    const anonymous = await rejectionOf(downloadExport({ url: api.url }, requested.id))
    expect(anonymous).toMatchObject({ tag: "Unauthorized", status: 401 })

    const malformed = await rejectionOf(downloadExport({ url: api.url, apiKey: api.key }, "../x"))
    expect(malformed).toMatchObject({ tag: "ValidationError", status: 400 })
  })
})
