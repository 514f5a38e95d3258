/** Pure helpers of the Accounts screen: the balance history's times and the new-account form. */

/**
 * The times to read a balance at for a chart of the last `days` days: the end of each earlier day
 * (23:59:59.999 local time), oldest first, then `now` itself (today is not over yet).
 */
export const balanceTimes = (now: Date, days: number): ReadonlyArray<Date> => {
  const times: Array<Date> = []
  for (let back = days - 1; back >= 1; back -= 1) {
    times.push(new Date(now.getFullYear(), now.getMonth(), now.getDate() - back, 23, 59, 59, 999))
  }
  if (days >= 1) times.push(new Date(now.getTime()))
  return times
}

/** What a person typed as a currency, as the API takes it: trimmed, upper case. */
export const normalizeCurrency = (text: string): string => text.trim().toUpperCase()

export const maxMetadataKeys = 50
export const maxMetadataKeyLength = 40
export const maxMetadataValueLength = 500

/**
 * Metadata typed one `key=value` a line (blank lines skipped; the value may hold `=`), or what is
 * wrong with it, by line. The limits are the API's: 50 keys, keys 1 to 40 characters, values up to
 * 500.
 */
export const parseMetadata = (
  text: string,
):
  | { readonly metadata: Readonly<Record<string, string>> | undefined }
  | { readonly error: string } => {
  // A map, then Object.fromEntries: a key such as __proto__ stays a key.
  const metadata = new Map<string, string>()
  const lines = text.split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === "") continue
    const at = line.indexOf("=")
    if (at < 0) return { error: `Line ${index + 1}: write it as key=value.` }
    const key = line.slice(0, at).trim()
    const value = line.slice(at + 1).trim()
    if (key.length === 0 || key.length > maxMetadataKeyLength) {
      return {
        error: `Line ${index + 1}: a key has 1 to ${maxMetadataKeyLength} characters.`,
      }
    }
    if (value.length > maxMetadataValueLength) {
      return {
        error: `Line ${index + 1}: a value has at most ${maxMetadataValueLength} characters.`,
      }
    }
    if (metadata.has(key)) return { error: `Line ${index + 1}: ${key} is given twice.` }
    if (metadata.size === maxMetadataKeys) return { error: `At most ${maxMetadataKeys} keys.` }
    metadata.set(key, value)
  }
  return { metadata: metadata.size === 0 ? undefined : Object.fromEntries(metadata) }
}
