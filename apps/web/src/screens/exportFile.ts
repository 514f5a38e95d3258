/**
 * The name to save an export's file under, from the download's `content-disposition`. Pure: no
 * React, no DOM; tested in Node.
 */

/** Drops what a file name may not hold on common systems (separators, control characters). */
const safeName = (name: string): string | undefined => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it drops
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, "_").trim()
  return cleaned === "" || /^\.+$/.test(cleaned) ? undefined : cleaned
}

/**
 * The file name a `content-disposition` header gives: `filename*=UTF-8''…` (RFC 5987) first,
 * else `filename="…"` or `filename=…`; `fallback` when there is none or it is unusable.
 */
export const filenameFromDisposition = (header: string | null, fallback: string): string => {
  if (header === null) return fallback
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header)
  if (extended !== null) {
    try {
      const name = safeName(decodeURIComponent(extended[2]!.trim().replace(/^"|"$/g, "")))
      if (name !== undefined) return name
    } catch {
      // A malformed escape: try the plain filename instead.
    }
  }
  const quoted = /filename\s*=\s*"((?:\\.|[^"\\])*)"/i.exec(header)
  if (quoted !== null) return safeName(quoted[1]!.replace(/\\(.)/g, "$1")) ?? fallback
  const bare = /filename\s*=\s*([^;\s]+)/i.exec(header)
  if (bare !== null) return safeName(bare[1]!) ?? fallback
  return fallback
}
