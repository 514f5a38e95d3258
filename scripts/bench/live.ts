/**
 * Live changes at scale: 1,000 concurrent subscribers (tRPC subscriptions over SSE) on one API
 * process, then transactions written one at a time through the API. Prints how long each change
 * took from its write's answer to each subscriber (p50, p99, max), whether every subscriber got
 * every change once and in order, and the API's resident memory per subscriber.
 */
import { benchUser, openBenchDatabase, percentile, rssOf, sleep, startApi } from "./harness.ts"

const subscribers = 1_000
const writes = 50
/** Between writes, so each change is timed on its own rather than queued behind the last. */
const gapMs = 100

export const run = async () => {
  const database = await openBenchDatabase()
  const api = await startApi(database, { TXN_RATE_LIMIT_PER_MINUTE: "1000000000" })
  const streams: Array<AbortController> = []
  try {
    const { secret } = await benchUser(database)
    const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" }
    const call = async (path: string, input: unknown) => {
      const response = await fetch(`${api.base}/trpc/${path}`, {
        method: "POST",
        headers,
        body: JSON.stringify(input),
      })
      const body = (await response.json()) as { result: { data: { id: string } } }
      return body.result.data
    }
    const account = await call("accounts.create", {
      name: "Live bench",
      currency: "USD",
      allowNegative: true,
    })
    const idle = await rssOf(api.process.pid)

    /** Per subscriber, the transaction ids in the order received and when each arrived. */
    const received = Array.from({ length: subscribers }, () => new Map<string, number>())
    const order = Array.from({ length: subscribers }, () => [] as Array<string>)
    const url = `${api.base}/trpc/transactions.live?input=${encodeURIComponent(JSON.stringify({ accountId: account.id }))}`
    let connected = 0
    const opened = Array.from({ length: subscribers }, async (_, i) => {
      const abort = new AbortController()
      streams.push(abort)
      const response = await fetch(url, {
        headers: { authorization: headers.authorization, accept: "text/event-stream" },
        signal: abort.signal,
      })
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ""
      let sawConnected = false
      const pump = async () => {
        for (;;) {
          const chunk = await reader.read()
          if (chunk.done) return
          buffer += chunk.value
          let end = buffer.indexOf("\n\n")
          while (end >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            if (block.includes("event: connected") && !sawConnected) {
              sawConnected = true
              connected++
            }
            const data = block.split("\n").find((line) => line.startsWith("data: "))
            if (data !== undefined && !block.includes("event:")) {
              const change = JSON.parse(data.slice(6)) as { transactionId: string }
              received[i]!.set(change.transactionId, performance.now())
              order[i]!.push(change.transactionId)
            }
            end = buffer.indexOf("\n\n")
          }
        }
      }
      pump().catch(() => undefined)
    })
    await Promise.all(opened)
    const waitUntil = Date.now() + 60_000
    while (connected < subscribers && Date.now() < waitUntil) await sleep(50)
    await sleep(500)
    const holding = await rssOf(api.process.pid)

    const written: Array<{ id: string; at: number }> = []
    for (let n = 0; n < writes; n++) {
      const created = await call("transactions.create", {
        accountId: account.id,
        direction: "credit",
        amount: n + 1,
        currency: "USD",
      })
      written.push({ id: created.id, at: performance.now() })
      await sleep(gapMs)
    }
    const settle = Date.now() + 30_000
    const complete = () => received.every((got) => got.size >= writes)
    while (!complete() && Date.now() < settle) await sleep(50)
    const peak = await rssOf(api.process.pid)

    const latencies: Array<number> = []
    let missing = 0
    for (const got of received) {
      for (const { id, at } of written) {
        const arrived = got.get(id)
        if (arrived === undefined) missing++
        else latencies.push(arrived - at)
      }
    }
    latencies.sort((a, b) => a - b)
    const inOrder = order.every(
      (ids) => ids.length === writes && ids.every((id, n) => id === written[n]!.id),
    )
    const mb = (bytes: number | undefined) =>
      bytes === undefined ? "—" : `${(bytes / 1024 / 1024).toFixed(0)} MB`
    const perSubscriber =
      idle === undefined || holding === undefined
        ? "—"
        : `${((holding - idle) / subscribers / 1024).toFixed(1)} KB`
    console.log(
      `${subscribers.toLocaleString("en")} subscribers of one account on one API process (${connected} connected), ${writes} creates ${gapMs} ms apart; the API reads the change feed every 100 ms (TXN_LIVE_POLL_MS).`,
    )
    console.log(
      `| deliveries | missing | every subscriber in order | latency p50 ms | p99 ms | max ms | API RSS idle | with subscribers | peak | per subscriber |`,
    )
    console.log(`| ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`)
    console.log(
      `| ${latencies.length.toLocaleString("en")} | ${missing} | ${inOrder ? "yes" : "no"} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${(latencies.at(-1) ?? 0).toFixed(1)} | ${mb(idle)} | ${mb(holding)} | ${mb(peak)} | ${perSubscriber} |`,
    )
    console.log(
      "  latency: from the create's answer to the change reaching each subscriber; it includes waiting for the next read of the feed.",
    )
  } finally {
    for (const stream of streams) stream.abort()
    await api.stop()
    await database.close()
  }
}
