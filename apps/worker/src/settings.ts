/** The worker's timings; the defaults are for production, tests shorten them. */
export interface BackgroundSettings {
  /**
   * The longest the relay waits between looks for new events when idle (nothing notifies it):
   * an idle system hands a new event to the queues within this time.
   */
  readonly relayPollMs: number
  /** How soon the relay looks again after a pass that found work. */
  readonly relayBusyPollMs: number
  /** Events per relay transaction. */
  readonly relayBatch: number
  /** An event handed to the queue this long ago whose job never finished is handed over again. */
  readonly relayStaleMs: number
  /** How long a queue call may take before it counts as failed. */
  readonly enqueueTimeoutMs: number
  /** The first retry delay of a webhook delivery; each later one doubles. */
  readonly webhookBackoffMs: number
  /** Attempts per delivery, the first included. */
  readonly webhookAttempts: number
  /** How long a receiver may take to answer. */
  readonly webhookTimeoutMs: number
  /** An endpoint whose every delivery has failed for this long is disabled. */
  readonly webhookDisableAfterMs: number
  /** When reconciliation runs: a cron pattern, UTC. */
  readonly reconcilePattern: string
  /** How often expired idempotency keys, exports and old events are purged. */
  readonly purgeEveryMs: number
  /** How often the sweep for overdue holds runs. */
  readonly holdSweepEveryMs: number
  /** How long a job's lock lasts without renewal: a killed worker's job runs again after it. */
  readonly lockDurationMs: number
  /** Events dispatched at once: each holds a database connection for a few short statements. */
  readonly eventConcurrency: number
  /**
   * Deliveries in flight at once. A delivery waits on its receiver most of the time and holds no
   * database connection meanwhile, so this bounds deliveries/s to about this many over a
   * receiver's answer time: 100 keeps up with 1,000 events/s to a receiver answering in 100 ms.
   */
  readonly webhookConcurrency: number
  /**
   * Deliveries per job of first attempts (see `deliverWebhooks`): claimed in one statement and
   * sent together, so a job of many deliveries costs the queue and the database about what one does.
   */
  readonly webhookBatch: number
}

const day = 24 * 60 * 60 * 1000

export const defaultSettings: BackgroundSettings = {
  relayPollMs: 250,
  relayBusyPollMs: 20,
  relayBatch: 500,
  relayStaleMs: 5 * 60_000,
  enqueueTimeoutMs: 5_000,
  // 15 s doubling over 14 attempts: retries for about 34 hours, the last gap about 17 hours.
  webhookBackoffMs: 15_000,
  webhookAttempts: 14,
  webhookTimeoutMs: 10_000,
  webhookDisableAfterMs: 3 * day,
  reconcilePattern: "0 3 * * *",
  purgeEveryMs: 60 * 60_000,
  holdSweepEveryMs: 60_000,
  lockDurationMs: 30_000,
  eventConcurrency: 20,
  webhookConcurrency: 100,
  webhookBatch: 20,
}

/** The delay before the attempt after `attempt` (1-based): the first delay, doubled each time. */
export const retryDelayMs = (settings: BackgroundSettings, attempt: number) =>
  settings.webhookBackoffMs * 2 ** (attempt - 1)
