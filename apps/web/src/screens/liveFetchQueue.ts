import type { LiveChange } from "@txn/client"

/** What the Transactions screen reads of a live change (its `changes` are left as sent). */
export type LiveEvent = Pick<LiveChange, "transactionId" | "accountId" | "version" | "kind" | "at">

export interface LiveFetchOptions<Row> {
  readonly fetch: (change: LiveEvent) => Promise<Row>
  readonly onRow: (row: Row, change: LiveEvent) => void
  readonly onBurst: (changes: number) => void
  readonly concurrency: number
  readonly maxPending: number
}

/**
 * Fetches the transactions that live changes name, a few at a time, newest change last. A burst
 * of more than `maxPending` changes waiting (a bulk import elsewhere) is not fetched row by row:
 * the queue is dropped and `onBurst` told how many changes arrived since, so the screen can offer
 * to read the list again instead of sending thousands of requests.
 */
export class LiveFetchQueue<Row> {
  private readonly waiting: Array<LiveEvent> = []
  private running = 0
  private burst = 0
  private stopped = false

  private readonly options: LiveFetchOptions<Row>

  constructor(options: LiveFetchOptions<Row>) {
    this.options = options
  }

  /** A change arrived. */
  push(change: LiveEvent) {
    if (this.stopped) return
    if (this.burst > 0) {
      this.burst += 1
      this.options.onBurst(this.burst)
      return
    }
    if (this.waiting.length + this.running >= this.options.maxPending) {
      this.burst = this.waiting.length + this.running + 1
      this.waiting.length = 0
      this.options.onBurst(this.burst)
      return
    }
    this.waiting.push(change)
    this.pump()
  }

  /** After the list was read again: changes from now on are fetched one by one again. */
  clearBurst() {
    this.burst = 0
  }

  /** Nothing more is fetched or reported (the screen is gone). */
  stop() {
    this.stopped = true
    this.waiting.length = 0
  }

  private pump() {
    while (!this.stopped && this.running < this.options.concurrency) {
      const change = this.waiting.shift()
      if (change === undefined) return
      this.running += 1
      this.options.fetch(change).then(
        (row) => {
          this.running -= 1
          // Rows fetched after a burst began are older than the list read again for it.
          if (!this.stopped && this.burst === 0) this.options.onRow(row, change)
          this.pump()
        },
        () => {
          // Gone or out of reach since: nothing to show.
          this.running -= 1
          this.pump()
        },
      )
    }
  }
}
