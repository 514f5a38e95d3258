/**
 * Replicas behind a real load balancer lose nothing when processes die. Three API processes
 * behind Debian's nginx and two worker processes, all on the run's PostgreSQL and Redis with one
 * queue prefix, take a steady load of creates while one API process and then one worker are
 * killed with SIGKILL and restarted. Clients retry a create that failed in transit with the same
 * idempotency key, as a user's client would. Afterwards PostgreSQL is read directly: every create
 * a client saw succeed is recorded exactly once, a retried one at most once, a refused one not at
 * all; every created transaction's event reaches the webhook receiver; every balance is the sum
 * of its postings and none is below zero.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes, randomInt } from "node:crypto"
import { once } from "node:events"
import { existsSync } from "node:fs"
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { eventually, freePort, testDatabaseUrl, testRedisUrl } from "@txn/testing"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { afterAll, describe, expect, it } from "vitest"
import { fastSettings } from "../../worker/test/background.ts"
import { startReceiver } from "../../worker/test/receiver.ts"
import { spawnWorkerProcess } from "../../worker/test/workerProcessRunner.ts"
import { type ApiProcess, mutate, provisionKey, startApiProcess } from "./apiProcess.ts"
import type { Json } from "./harness.ts"

/** Debian's nginx, which `.ci/run` installs; this test says so and skips where it is missing. */
const nginxPath = "/usr/sbin/nginx"
const hasNginx = existsSync(nginxPath)

// The worker exactly as main.ts runs it, with the worker tests' short timings: a job of a killed
// worker runs again after a 3 s lock, not the 30 s production waits, so the test stays short.
const workerScript = fileURLToPath(new URL("../../worker/test/workerProcess.ts", import.meta.url))

const clients = 8
/** Bounds on the load: writes per client, and time. */
const maxWritesPerClient = 600
const maxLoadMs = 40_000
/** How long the load goes on once the killed processes are back. */
const loadAfterRecoveryMs = 3_000
/** Attempts per intended write, the first included, with the same idempotency key. */
const maxAttempts = 6
const requestTimeoutMs = 15_000
const thinkMs = 15
const fundingA = 1_000_000
const fundingB = 3_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `promise`, or a failure naming `what` after `ms`. */
const within = async <A>(promise: Promise<A>, ms: number, what: string): Promise<A> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const exited = (proc: ChildProcess) => proc.exitCode !== null || proc.signalCode !== null

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
const stop = async (proc: ChildProcess, graceMs = 10_000) => {
  if (exited(proc)) return
  const exit = once(proc, "exit")
  proc.kill("SIGTERM")
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs)
  await exit
  clearTimeout(timer)
}

const killHard = async (proc: ChildProcess) => {
  if (exited(proc)) return
  const exit = once(proc, "exit")
  proc.kill("SIGKILL")
  await within(exit, 10_000, `process ${proc.pid} to die of SIGKILL`)
}

/**
 * nginx in front of `upstreams`, on a free loopback port, with its config, pid, logs and temp
 * files in a directory of its own; `daemon off` keeps the master as the child this test stops.
 */
const startNginx = async (upstreams: ReadonlyArray<number>) => {
  const dir = await mkdtemp(join(tmpdir(), "txn-replicas-nginx-"))
  // nginx's workers run as an unprivileged user when the master is root: they create temp files here.
  await chmod(dir, 0o755)
  const port = await freePort()
  const conf = join(dir, "nginx.conf")
  await writeFile(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  log_format replicas '$request_method $status "$upstream_addr" "$upstream_status"';
  access_log ${dir}/access.log replicas;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream api {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join("\n")}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_connect_timeout 1s;
      proxy_read_timeout 12s;
      # A POST that reached a replica which then died is passed to another one (non_idempotent).
      # That is safe here only because every POST this nginx carries is a create with an
      # idempotency key, recorded in the same database transaction as the write: if the dead
      # replica committed, the next one replays that answer; if not, it writes it once; if it is
      # still writing, the next one waits on the key's row. Without keys this would double writes.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_next_upstream_timeout 12s;
    }
  }
}
`,
  )
  const proc = spawn(nginxPath, ["-c", conf, "-p", `${dir}/`, "-e", `${dir}/error.log`], {
    stdio: ["ignore", "ignore", "pipe"],
  })
  let stderr = ""
  proc.stderr!.on("data", (chunk) => {
    stderr += chunk
  })
  const url = `http://127.0.0.1:${port}`
  const remove = () => rm(dir, { recursive: true, force: true })
  try {
    await eventually(
      async () => {
        if (exited(proc)) {
          const log = await readFile(join(dir, "error.log"), "utf8").catch(() => "")
          throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}${log}`)
        }
        const answer = await fetch(`${url}/healthz`).catch(() => undefined)
        return answer?.status === 200 ? true : undefined
      },
      { timeoutMs: 15_000, what: "nginx to answer /healthz" },
    )
  } catch (error) {
    await stop(proc)
    await remove()
    throw error
  }
  return {
    proc,
    url,
    /** Each request nginx logged: its method, status, the replicas tried and their answers. */
    accessLog: async () =>
      (await readFile(join(dir, "access.log"), "utf8").catch(() => ""))
        .split("\n")
        .filter((line) => line !== ""),
    remove,
  }
}

type Direction = "credit" | "debit"

/** One intended write, with one idempotency key, and what its client saw. */
interface Write {
  readonly key: string
  readonly accountId: string
  readonly direction: Direction
  readonly amount: number
  readonly startedAt: number
  attempts: number
  /** ok: a 200; refused: a 422 InsufficientFunds; unknown: attempts spent without an answer. */
  outcome: "pending" | "ok" | "refused" | "unknown" | "unexpected"
  /** What each failed attempt got: a status, "network" or "timeout". */
  readonly failures: Array<string>
  id?: string
  replayed?: boolean
  answeredAt?: number
  detail?: string
}

/** What one attempt got: an answer, or none in time or over the network. */
type Attempt =
  | { readonly status: number; readonly body: Json }
  | { readonly failed: "timeout" | "network" }

const signed = (direction: string, amount: bigint) => (direction === "credit" ? amount : -amount)

describe.skipIf(!hasNginx)(
  `API replicas behind nginx, processes killed under load${hasNginx ? "" : ` (skipped: ${nginxPath} is not installed)`}`,
  () => {
    const started: Array<ChildProcess> = []
    const cleanups: Array<() => Promise<unknown>> = []
    afterAll(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
      await Promise.all(started.map((proc) => stop(proc).catch(() => undefined)))
    })

    it("records every acknowledged create exactly once, delivers every event and conserves money", async () => {
      const databaseUrl = Redacted.value(testDatabaseUrl())
      const redisUrl = testRedisUrl()
      const shared = {
        ...(redisUrl === undefined ? {} : { REDIS_URL: Redacted.value(redisUrl) }),
        TXN_QUEUE_PREFIX: `rep${randomBytes(6).toString("hex")}`,
        // The webhook receiver listens on 127.0.0.1.
        TXN_WEBHOOK_ALLOW_PRIVATE: "true",
      }
      const apiEnv = {
        ...shared,
        // Every request comes from nginx on loopback: the rate limit counts X-Forwarded-For, and
        // is set out of the way, since refusals are not what this test is about.
        TXN_TRUSTED_PROXIES: "loopback",
        TXN_RATE_LIMIT_PER_MINUTE: "1000000",
      }
      // PostgreSQL itself when the run goes through a pooler (`npm test -- --pgbouncer`), as
      // apiProcess.ts passes it on to the API processes.
      const directUrl = process.env.DATABASE_DIRECT_URL || undefined
      const workerEnv = {
        ...shared,
        DATABASE_URL: databaseUrl,
        ...(directUrl === undefined ? {} : { DATABASE_DIRECT_URL: directUrl }),
        TXN_TEST_WORKER_SETTINGS: JSON.stringify(fastSettings),
      }
      const adminToken = randomBytes(32).toString("base64url")

      const startApi = async (port?: number) => {
        // A restart on the port just freed can meet it still taken for a moment: try a few times.
        for (let attempt = 1; ; attempt++) {
          const api = await startApiProcess(apiEnv, adminToken, port)
          started.push(api.proc)
          try {
            await within(api.waitFor("api listening"), 60_000, `API on port ${api.port}`)
            return api
          } catch (error) {
            if (port === undefined || attempt >= 5 || !exited(api.proc)) throw error
            await sleep(500)
          }
        }
      }
      const startWorker = async () => {
        const worker = spawnWorkerProcess(workerScript, workerEnv)
        started.push(worker.proc)
        // The runner's own wait gives up after 20 s; a start during the load may take longer.
        await eventually(
          async () => {
            if (worker.lines.some((line) => line.msg === "worker started")) return true
            if (exited(worker.proc)) return worker.waitFor("worker started")
            return undefined
          },
          { timeoutMs: 60_000, intervalMs: 100, what: "a worker to start" },
        )
        return worker
      }

      const receiver = await startReceiver()
      cleanups.push(receiver.close)
      const db = new pg.Client({ connectionString: directUrl ?? databaseUrl })
      await db.connect()
      cleanups.push(() => db.end())

      const apis: Array<ApiProcess> = await Promise.all([startApi(), startApi(), startApi()])
      const workers = await Promise.all([startWorker(), startWorker()])
      const nginx = await startNginx(apis.map((api) => api.port))
      cleanups.push(nginx.remove)
      cleanups.push(() => stop(nginx.proc))

      const { secret: key } = await provisionKey(`http://127.0.0.1:${apis[0]!.port}`, adminToken)
      const lb = nginx.url
      const tag = randomBytes(4).toString("hex")
      const webhook = await mutate(lb, key, "webhooks.create", {
        idempotencyKey: `rep-${tag}-webhook`,
        url: receiver.url,
        eventTypes: ["transaction.created"],
      })
      receiver.useSecret(webhook.secret)
      const open = (name: string) =>
        mutate(lb, key, "accounts.create", {
          idempotencyKey: `rep-${tag}-${name}`,
          name,
          currency: "EUR",
          allowNegative: false,
        })
      const accountA = await open("Steady")
      const accountB = await open("Tight")
      const userId: string = accountA.userId
      const accountIds: Array<string> = [accountA.id, accountB.id]
      // B is funded thinly and mostly debited, so some debits meet the no-negative rule.
      const funding = new Map<string, number>([
        [accountA.id, fundingA],
        [accountB.id, fundingB],
      ])
      for (const [accountId, amount] of funding) {
        await mutate(lb, key, "transactions.create", {
          idempotencyKey: `rep-${tag}-fund-${accountId}`,
          accountId,
          direction: "credit",
          amount,
          currency: "EUR",
          description: `rep-${tag}-fund-${accountId}`,
        })
      }

      const writes: Array<Write> = []
      const seen = { gatewayErrors: 0, network: 0, timeouts: 0 }
      let stopping = false
      const loadStarted = Date.now()

      const attempt = async (write: Write): Promise<Attempt> => {
        try {
          const response = await fetch(`${lb}/trpc/transactions.create`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
            body: JSON.stringify({
              idempotencyKey: write.key,
              accountId: write.accountId,
              direction: write.direction,
              amount: write.amount,
              currency: "EUR",
              description: write.key,
            }),
            signal: AbortSignal.timeout(requestTimeoutMs),
          })
          const text = await response.text()
          let body: Json
          try {
            body = JSON.parse(text)
          } catch {
            body = { text: text.slice(0, 200) }
          }
          return { status: response.status, body }
        } catch (error) {
          return { failed: (error as Error).name === "TimeoutError" ? "timeout" : "network" }
        }
      }

      /** One intended write, retried with the same key while its outcome is unknown. */
      const send = async (write: Write) => {
        while (write.attempts < maxAttempts) {
          write.attempts += 1
          const answer = await attempt(write)
          if ("status" in answer) {
            const tagOf: unknown = answer.body?.error?.data?.tag
            if (answer.status === 200) {
              write.outcome = "ok"
              write.id = answer.body.result.data.id
              write.replayed = answer.body.result.data.replayed === true
              write.answeredAt = Date.now()
              return
            }
            if (answer.status === 422 && tagOf === "InsufficientFunds") {
              write.outcome = "refused"
              write.answeredAt = Date.now()
              return
            }
            if (![502, 503, 504].includes(answer.status)) {
              write.outcome = "unexpected"
              write.detail = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`
              return
            }
            seen.gatewayErrors += 1
            write.failures.push(String(answer.status))
          } else {
            if (answer.failed === "timeout") seen.timeouts += 1
            else seen.network += 1
            write.failures.push(answer.failed)
          }
          await sleep(Math.min(100 * 2 ** (write.attempts - 1), 1_000))
        }
        write.outcome = "unknown"
      }

      const client = async (index: number) => {
        for (let n = 0; n < maxWritesPerClient; n++) {
          if (stopping || Date.now() - loadStarted > maxLoadMs) return
          const onB = randomInt(4) === 0
          const direction: Direction = onB
            ? randomInt(10) < 6
              ? "debit"
              : "credit"
            : randomInt(2) === 0
              ? "debit"
              : "credit"
          const intended: Write = {
            key: `rep-${tag}-c${index}-${n}`,
            accountId: onB ? accountB.id : accountA.id,
            direction,
            amount: onB ? 50 + randomInt(250) : 1 + randomInt(500),
            startedAt: Date.now(),
            attempts: 0,
            outcome: "pending",
            failures: [],
          }
          writes.push(intended)
          await send(intended)
          await sleep(thinkMs)
        }
      }

      const marks = { apiKilled: 0, apiBack: 0, workerKilled: 0, workerBack: 0 }
      let restartedApi: ApiProcess | undefined
      const chaos = async () => {
        await sleep(3_000)
        const victim = apis[1]!
        marks.apiKilled = Date.now()
        await killHard(victim.proc)
        await sleep(2_000)
        restartedApi = await startApi(victim.port)
        apis[1] = restartedApi
        marks.apiBack = Date.now()
        await sleep(2_000)
        marks.workerKilled = Date.now()
        await killHard(workers[0]!.proc)
        await sleep(2_000)
        workers[0] = await startWorker()
        marks.workerBack = Date.now()
        await sleep(loadAfterRecoveryMs)
      }

      const load = Promise.all(Array.from({ length: clients }, (_, index) => client(index)))
      try {
        await chaos()
      } finally {
        stopping = true
        await load
      }
      const loadMs = Date.now() - loadStarted

      const problems: Array<string> = []
      const unexpected = writes.filter((w) => w.outcome === "unexpected")
      for (const w of unexpected) problems.push(`${w.key}: unexpected answer ${w.detail}`)

      // The load spanned the kills: answers before the API kill, while that replica was down,
      // and after the worker came back; and the restarted replica took writes again.
      const okWrites = writes.filter((w) => w.outcome === "ok")
      const okBetween = (from: number, to: number) =>
        okWrites.filter((w) => w.startedAt >= from && w.answeredAt! < to).length
      const span = {
        before: okBetween(0, marks.apiKilled),
        replicaDown: okBetween(marks.apiKilled, marks.apiBack),
        workerDown: okBetween(marks.workerKilled, marks.workerBack),
        after: okBetween(marks.workerBack, Number.POSITIVE_INFINITY),
      }
      const servedByRestarted = (restartedApi?.lines ?? []).filter(
        (line) => line.msg === "request" && line.method === "POST",
      ).length

      // Every write as PostgreSQL has it, by the key its description repeats, and every key.
      const rows = (
        await db.query<{
          id: string
          account_id: string
          direction: string
          amount: string
          status: string
          description: string | null
        }>(
          `select id, account_id, direction, amount::text as amount, status, description
             from transactions where account_id = any($1::text[])`,
          [accountIds],
        )
      ).rows
      const keyRows = (
        await db.query<{ key: string; id: string | null }>(
          `select key, response->>'id' as id from idempotency_keys
            where user_id = $1 and key like $2`,
          [userId, `rep-${tag}-%`],
        )
      ).rows
      const rowsByKey = new Map<string, Array<(typeof rows)[number]>>()
      for (const row of rows) {
        const list = rowsByKey.get(row.description ?? "") ?? []
        list.push(row)
        rowsByKey.set(row.description ?? "", list)
      }
      const keyAnswer = new Map(keyRows.map((row) => [row.key, row.id]))

      const known = new Set<string>(writes.map((w) => w.key))
      for (const accountId of accountIds) known.add(`rep-${tag}-fund-${accountId}`)
      for (const [description, list] of rowsByKey) {
        if (!known.has(description)) {
          problems.push(`${list.length} transaction(s) no client asked for: ${description}`)
        }
      }
      for (const [accountId, amount] of funding) {
        const fund = rowsByKey.get(`rep-${tag}-fund-${accountId}`) ?? []
        if (fund.length !== 1 || fund[0]!.amount !== String(amount)) {
          problems.push(`funding of ${accountId}: ${JSON.stringify(fund)}`)
        }
      }
      let existingUnknown = 0
      for (const w of writes) {
        const found = rowsByKey.get(w.key) ?? []
        const recordedId = keyAnswer.get(w.key)
        if (w.outcome === "ok") {
          const row = found[0]
          if (found.length !== 1 || row === undefined) {
            problems.push(`${w.key}: acknowledged as ${w.id}, recorded ${found.length} times`)
          } else if (
            row.id !== w.id ||
            row.account_id !== w.accountId ||
            row.direction !== w.direction ||
            row.amount !== String(w.amount) ||
            row.status !== "posted"
          ) {
            problems.push(`${w.key}: acknowledged ${w.id}, recorded ${JSON.stringify(row)}`)
          } else if (recordedId !== w.id) {
            problems.push(`${w.key}: acknowledged ${w.id}, its key answers ${recordedId}`)
          }
        } else if (w.outcome === "refused") {
          if (found.length !== 0 || recordedId !== undefined) {
            problems.push(`${w.key}: refused, yet recorded ${found.length} times`)
          }
        } else if (found.length > 1) {
          problems.push(`${w.key} (${w.outcome}): recorded ${found.length} times`)
        } else if (found.length === 1) {
          existingUnknown += 1
        }
      }

      // Money: each balance (as the API answers it and as stored) is the sum of its postings,
      // and the sum of what the clients asked for and the database kept, and never below zero.
      for (const accountId of accountIds) {
        const [stored] = (
          await db.query<{ posted: string; pending_debits: string; ledger: string }>(
            `select posted_balance::text as posted, pending_debits::text as pending_debits,
                    (select coalesce(sum(posted_delta), 0)::text from ledger_entries e
                      where e.account_id = a.id) as ledger
               from accounts a where a.id = $1`,
            [accountId],
          )
        ).rows
        const postings = rows
          .filter((row) => row.account_id === accountId && row.status === "posted")
          .reduce((sum, row) => sum + signed(row.direction, BigInt(row.amount)), 0n)
        const intended = writes
          .filter((w) => w.accountId === accountId && (rowsByKey.get(w.key)?.length ?? 0) > 0)
          .reduce((sum, w) => sum + signed(w.direction, BigInt(w.amount)), 0n)
        const expected = BigInt(funding.get(accountId)!) + intended
        const answer = await fetch(
          `${lb}/trpc/accounts.balance?input=${encodeURIComponent(JSON.stringify({ id: accountId }))}`,
          { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) },
        )
        const balance: Json = ((await answer.json()) as Json).result?.data
        const figures = {
          api: String(balance?.posted),
          stored: stored?.posted,
          ledger: stored?.ledger,
          postings: String(postings),
          expected: String(expected),
        }
        if (new Set(Object.values(figures)).size !== 1) {
          problems.push(`balance of ${accountId} disagrees: ${JSON.stringify(figures)}`)
        }
        if (postings < 0n || BigInt(stored?.posted ?? "0") < 0n) {
          problems.push(`balance of ${accountId} below zero: ${JSON.stringify(figures)}`)
        }
      }

      // Events: one created event per transaction, each reaching the receiver; a repeat only
      // with the same event id.
      const transactionIds = new Set(rows.map((row) => row.id))
      const events = (
        await db.query<{ event_id: string; transaction_id: string }>(
          `select txn_event_id(seq) as event_id, transaction_id from transaction_events
            where kind = 'created' and transaction_id = any($1::text[])`,
          [[...transactionIds]],
        )
      ).rows
      const eventOf = new Map(events.map((event) => [event.transaction_id, event.event_id]))
      if (events.length !== transactionIds.size || eventOf.size !== transactionIds.size) {
        problems.push(`${events.length} created events for ${transactionIds.size} transactions`)
      }
      const transactionOf = (event: { readonly data: unknown }) =>
        (event.data as { transaction: { id: string } }).transaction.id
      const delivered = () => new Set(receiver.received.map((r) => transactionOf(r.event)))
      const missing = () => {
        const arrived = delivered()
        return [...transactionIds].filter((id) => !arrived.has(id))
      }
      await eventually(async () => (missing().length === 0 ? true : undefined), {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: "every created transaction's event at the receiver",
      }).catch(() => {
        const left = missing()
        problems.push(
          `${left.length} of ${transactionIds.size} transactions' events never reached the receiver, e.g. ${left.slice(0, 5).join(", ")}`,
        )
      })
      const eventIds = new Map<string, Set<string>>()
      for (const { event } of receiver.received) {
        const transactionId = transactionOf(event)
        if (event.type !== "transaction.created" || !transactionIds.has(transactionId)) {
          problems.push(`event ${event.id} (${event.type}) for an unknown transaction`)
          continue
        }
        if (eventOf.get(transactionId) !== event.id) {
          problems.push(
            `${transactionId}: event ${event.id}, expected ${eventOf.get(transactionId)}`,
          )
        }
        const ids = eventIds.get(transactionId) ?? new Set<string>()
        ids.add(event.id)
        eventIds.set(transactionId, ids)
      }
      const distinctEvents = new Set(receiver.received.map((r) => r.event.id)).size
      const duplicates = receiver.received.length - distinctEvents
      if (receiver.rejected.length > 0) {
        problems.push(`receiver rejected ${receiver.rejected.length}: ${receiver.rejected[0]}`)
      }

      const lines = await nginx.accessLog()
      // A request nginx tried on more than one replica logs them all: "a, b" "502, 200".
      const passedOn = lines.filter((line) => /"[^"]*,[^"]*" "/.test(line))
      const nginx502 = lines.filter((line) => / 502 /.test(line)).length
      const count = (outcome: Write["outcome"]) =>
        writes.filter((w) => w.outcome === outcome).length
      console.log(
        `replicas: ${writes.length} writes in ${(loadMs / 1000).toFixed(1)} s: ${count("ok")} ok (${okWrites.filter((w) => w.replayed).length} replayed), ${count("refused")} refused (InsufficientFunds), ${count("unknown")} unknown (${existingUnknown} of them recorded); ${writes.filter((w) => w.attempts > 1).length} retried by clients after ${seen.gatewayErrors} 502/503/504, ${seen.network} network errors, ${seen.timeouts} timeouts; nginx passed ${passedOn.length} requests on to another replica (upstream answers ${[...new Set(passedOn.map((line) => line.split('" "')[1]?.replace('"', "")))].join("; ")}), answered 502 ${nginx502} times; replica back ${((marks.apiBack - marks.apiKilled) / 1000).toFixed(1)} s and worker back ${((marks.workerBack - marks.workerKilled) / 1000).toFixed(1)} s after their kills; ok writes before kill ${span.before}, replica down ${span.replicaDown}, worker down ${span.workerDown}, after recovery ${span.after}; restarted replica served ${servedByRestarted} POSTs; events delivered ${delivered().size}/${transactionIds.size}, ${duplicates} duplicate arrivals (same event id)`,
      )

      expect(problems).toEqual([])
      expect(
        Math.min(span.before, span.replicaDown, span.workerDown, span.after),
        `writes acknowledged around the kills: ${JSON.stringify(span)}`,
      ).toBeGreaterThan(0)
      expect(servedByRestarted).toBeGreaterThan(0)
      expect([...eventIds.values()].filter((ids) => ids.size > 1).map((ids) => [...ids])).toEqual(
        [],
      )
    }, 150_000)
  },
)
