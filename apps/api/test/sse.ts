/** One server-sent event as a client reads it. */
export interface SseEvent {
  readonly id: string | undefined
  readonly event: string
  readonly data: string
}

/**
 * A stream of server-sent events opened with fetch (which, unlike EventSource, can send an
 * Authorization header), read event by event. `close()` drops the connection, as a client that
 * goes away would.
 */
export const openSse = async (url: string, headers: Record<string, string> = {}) => {
  const abort = new AbortController()
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  })
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ""
  const read = async (): Promise<SseEvent | undefined> => {
    for (;;) {
      const end = buffer.indexOf("\n\n")
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const fields = {
          id: undefined as string | undefined,
          event: "message",
          data: [] as string[],
        }
        let any = false
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue
          const colon = line.indexOf(":")
          const name = colon < 0 ? line : line.slice(0, colon)
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "")
          any = true
          if (name === "id") fields.id = value
          else if (name === "event") fields.event = value
          else if (name === "data") fields.data.push(value)
        }
        if (any) return { id: fields.id, event: fields.event, data: fields.data.join("\n") }
        continue
      }
      const chunk = await reader.read()
      if (chunk.done) return undefined
      buffer += chunk.value
    }
  }
  return {
    response,
    /** The next event, or undefined once the server ended the stream. */
    next: read,
    /** The next `count` events of type `event` (others skipped), waiting at most `ms`. */
    take: async (count: number, event = "message", ms = 10_000) => {
      const taken: Array<SseEvent> = []
      const timer = setTimeout(() => abort.abort(), ms)
      try {
        while (taken.length < count) {
          const next = await read()
          if (next === undefined) break
          if (next.event === event) taken.push(next)
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error
      } finally {
        clearTimeout(timer)
      }
      return taken
    },
    close: () => abort.abort(),
  }
}
