import { downloadExport, ExportDownloadError } from "@txn/client"
import { useCallback } from "react"
import { describeError } from "../errors.ts"
import { useSession } from "../txn.tsx"
import { filenameFromDisposition } from "./exportFile.ts"

/** Hands a blob to the browser as a file download, through a temporary `<a download>`. */
export const saveBlob = (blob: Blob, name: string) => {
  const url = URL.createObjectURL(blob)
  const link = document.createElement("a")
  link.href = url
  link.download = name
  link.rel = "noopener"
  link.style.display = "none"
  document.body.append(link)
  link.click()
  link.remove()
  // The browser has taken the file once the click's default action has run; give it a moment.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/**
 * A function that downloads a completed export (`GET /v1/exports/<id>/download` with the
 * session's key or token as the bearer) and saves it under the name the API gives it, else
 * `<id>.csv`. It rejects with an ExportDownloadError when the API refuses.
 */
export const useDownload = () => {
  const { secret } = useSession()
  return useCallback(
    async (id: string): Promise<string> => {
      const response = await downloadExport(
        {
          url: window.location.origin,
          ...(secret.startsWith("txnct_") ? { token: secret } : { apiKey: secret }),
        },
        id,
      )
      const blob = await response.blob()
      const name = filenameFromDisposition(response.headers.get("content-disposition"), `${id}.csv`)
      saveBlob(blob, name)
      return name
    },
    [secret],
  )
}

/** What went wrong with a download, in words a person can act on. */
export const describeDownloadError = (error: unknown): string => {
  if (!(error instanceof ExportDownloadError)) return describeError(error)
  switch (error.tag) {
    case "NotFound":
      return "The file is not available: the export has not completed, has expired (exports are kept 7 days), or belongs to someone else."
    case "Unauthorized":
      return "Your key or token was not accepted (wrong, revoked or expired). Sign in again."
    case "Forbidden":
      return "Your key or token may not download exports: it needs the read scope."
    case "RateLimited":
      return "Too many requests for now. Wait a moment and try again."
    case "Unavailable":
      return "The service is busy, or something it needs is down. Try again shortly."
    default:
      return `The download failed: ${error.message}. Try again.`
  }
}
