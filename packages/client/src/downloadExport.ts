import type { TxnClientOptions } from "./createTxnClient.ts"
import { requestHeaders } from "./requestHeaders.ts"

/** Why a download was refused: the API's tag (`NotFound`, `Forbidden`, ...) and its message. */
export class ExportDownloadError extends Error {
  override readonly name = "ExportDownloadError"
  readonly tag: string
  readonly status: number
  readonly requestId: string | undefined
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(fields: {
    readonly tag: string
    readonly message: string
    readonly status: number
    readonly requestId?: string | undefined
    readonly details?: Readonly<Record<string, unknown>> | undefined
  }) {
    super(fields.message)
    this.tag = fields.tag
    this.status = fields.status
    this.requestId = fields.requestId
    this.details = fields.details
  }
}

/**
 * Downloads a completed export's CSV (`exports.get` shows its `downloadUrl` once it is). The
 * answer is the HTTP response, its body not yet read: stream it (`response.body`) or read it
 * whole (`await response.text()`); `content-length` says how many bytes to expect. A refusal
 * (NotFound until the export has completed, Forbidden without the read scope, ...) rejects with
 * an ExportDownloadError.
 */
export const downloadExport = async (
  options: Pick<TxnClientOptions, "url" | "apiKey" | "token" | "headers" | "fetch">,
  id: string,
): Promise<Response> => {
  const fetch = options.fetch ?? globalThis.fetch
  const response = await fetch(
    `${options.url.replace(/\/+$/, "")}/v1/exports/${encodeURIComponent(id)}/download`,
    { headers: await requestHeaders(options) },
  )
  if (response.ok) return response
  const body = (await response.json().catch(() => undefined)) as
    | {
        error?: {
          tag?: string
          message?: string
          requestId?: string
          details?: Record<string, unknown>
        }
      }
    | undefined
  throw new ExportDownloadError({
    tag: body?.error?.tag ?? "InternalError",
    message: body?.error?.message ?? `HTTP ${response.status}`,
    status: response.status,
    requestId: body?.error?.requestId,
    details: body?.error?.details,
  })
}
