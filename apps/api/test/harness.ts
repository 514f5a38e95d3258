import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { type Agent, type IncomingHttpHeaders, request } from "node:http"
import type { AddressInfo } from "node:net"
import type {
  AnyProcedure,
  inferRouterInputs,
  inferRouterOutputs,
  TRPCRouterRecord,
} from "@trpc/server"
import { loadConfig } from "@txn/config"
import { Access, type Scope } from "@txn/domain"
import { makeAppLayer, makeLog, type TracingOptions } from "@txn/platform"
import { BullHoldScheduler, makeQueueBackend, Queues } from "@txn/queue"
import { LogCapture, testDatabaseUrl, testDirectDatabaseUrl, uniquePrefix } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { expect } from "vitest"
import type { AppContext } from "../src/context.ts"
import { makeLiveFeed } from "../src/liveFeed.ts"
import { databaseConnectionsOf } from "../src/metrics.ts"
import { makeRateLimit, type RateLimit } from "../src/rateLimit.ts"
import type { makeReadinessCheck } from "../src/readiness.ts"
import type { AppRouter } from "../src/router.ts"
import { createApiServer } from "../src/server.ts"
import { makeDocumentCheck } from "./openapi.ts"

/** A parsed JSON answer; the tests check its shape field by field. */
// biome-ignore lint/suspicious/noExplicitAny: answers are untyped JSON, checked by assertions
export type Json = any

type Procedures = AppRouter["_def"]["record"]

/** The dotted paths ("transactions.create") of a router's procedures of one kind. */
type PathsOf<Record extends TRPCRouterRecord, Kind, Prefix extends string = ""> = {
  [Name in keyof Record & string]: Record[Name] extends AnyProcedure
    ? Record[Name]["_def"]["type"] extends Kind
      ? `${Prefix}${Name}`
      : never
    : Record[Name] extends TRPCRouterRecord
      ? PathsOf<Record[Name], Kind, `${Prefix}${Name}.`>
      : never
}[keyof Record & string]

/** What sits at a dotted path of a tree keyed as the router is. */
type At<Tree, Path extends string> = Path extends `${infer Head}.${infer Rest}`
  ? Head extends keyof Tree
    ? At<Tree[Head], Rest>
    : never
  : Path extends keyof Tree
    ? Tree[Path]
    : never

export type MutationPath = PathsOf<Procedures, "mutation">
export type QueryPath = PathsOf<Procedures, "query">
export type ProcedurePath = MutationPath | QueryPath
/** What a procedure takes, as a client sends it. */
export type Input<Path extends ProcedurePath> = At<inferRouterInputs<AppRouter>, Path>
/** What a procedure answers, as JSON brings it to a client. */
export type Output<Path extends ProcedurePath> = At<inferRouterOutputs<AppRouter>, Path>
/** The input argument of a call: optional where the procedure takes none. */
export type InputArgs<Path extends ProcedurePath> =
  undefined extends Input<Path> ? [input?: Input<Path>] : [input: Input<Path>]

declare const answerOf: unique symbol

/**
 * A tRPC answer over HTTP. Its body stays untyped, since it may be an error; `Data` is what
 * `result.data` holds when the answer is a 200, which `ok` returns.
 */
export interface Answer<Data = Json> {
  readonly status: number
  readonly headers: Headers
  readonly body: Json
  /** Never set: carries `Data` to `ok`. */
  readonly [answerOf]?: Data
}

/** The data of a tRPC answer, once it is known to be a 200 (its body in the message if not). */
export const ok = <Data = Json>(response: {
  readonly status: number
  readonly body: Json
  readonly [answerOf]?: Data
}): Data => {
  expect(response.status, JSON.stringify(response.body).slice(0, 2000)).toBe(200)
  return response.body.result.data
}

export { LogCapture }

/**
 * The real API on a random port over the run's PostgreSQL, acting as a fresh user of its own so
 * test files never see each other's data.
 */
export const startTestApi = async (
  options: {
    runtime?: AppContext["runtime"]
    checkReadiness?: () => Promise<void>
    /** Defaults to an in-process limit high enough never to get in a test's way. */
    rateLimit?: RateLimit
    requestTimeoutMs?: number
    /** Off, as in production, unless a test turns it on. */
    allowPrivateWebhookTargets?: boolean
    /** The run's database unless given (a proxy in front of it, say). */
    databaseUrl?: Redacted.Redacted<string>
    /** The `/readyz` check, built from the test API's own runtime and hold queue. */
    readiness?: typeof makeReadinessCheck
    /** Defaults to TXN_MAX_BATCH_CALLS's default. */
    maxBatchCalls?: number
    /** Live changes held for one subscriber before it reads the rest from the database. */
    liveMaxQueued?: number
    /** Browser origins allowed to call it; none unless given, as in production. */
    corsOrigins?: ReadonlyArray<string>
    /** A built dashboard to serve under /app; none unless given. */
    dashboardDir?: string
    /** Proxies whose X-Forwarded-For is believed; none unless given, as by default. */
    trustedProxies?: ReadonlyArray<string>
    /** Counts the test database's `txn` connections for /metrics when true. */
    databaseConnections?: boolean
    /** Sends the use cases' spans to an OTLP receiver. */
    tracing?: TracingOptions
  } = {},
) => {
  const logs = new LogCapture()
  const log = makeLog({ name: "api", level: "info", destination: logs })
  const databaseUrl = options.databaseUrl ?? testDatabaseUrl()
  // The queue backend keeps sessions of its own: never through a pooler in transaction mode.
  const queues = makeQueueBackend({
    redisUrl: undefined,
    databaseUrl: testDirectDatabaseUrl() ?? databaseUrl,
    prefix: uniquePrefix("api"),
  })
  const holds = queues.queue(Queues.holds)
  const appRuntime = ManagedRuntime.make(
    makeAppLayer({
      databaseUrl,
      databasePoolMax: 5,
      databaseDirectUrl: options.databaseUrl === undefined ? testDirectDatabaseUrl() : undefined,
      holdScheduler: BullHoldScheduler.layer(holds),
      log,
      webhookTargets: { allowPrivate: options.allowPrivateWebhookTargets ?? false },
      credentialCache: { ttlMs: 30_000, maxEntries: 1_000 },
      tracing: options.tracing,
    }),
  )
  /** A new user with one API key of the given scopes. */
  const newUser = async (scopes: ReadonlyArray<Scope> = ["read", "write"]) =>
    appRuntime.runPromise(
      Access.use((access) =>
        Effect.gen(function* () {
          const user = yield* access.createUser({ name: "Test user" })
          const { apiKey, secret } = yield* access.createApiKey({
            userId: user.id,
            name: "test",
            scopes,
          })
          return { userId: user.id, keyId: apiKey.id, key: secret }
        }),
      ),
    )
  const { userId, key } = await newUser()
  const adminToken = randomBytes(24).toString("base64url")
  const runtime = options.runtime ?? appRuntime
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const live = makeLiveFeed(runtime, log, {
    pollMs: 50,
    maxQueued: options.liveMaxQueued ?? 1_000,
    maxSubscribers: 1_000,
    readTimeoutMs: requestTimeoutMs,
  })
  const server = createApiServer(
    {
      runtime,
      log,
      adminToken: Redacted.make(adminToken),
      rateLimit: options.rateLimit ?? makeRateLimit({ points: 100_000 }),
      requestTimeoutMs,
      live,
    },
    {
      maxBodyBytes: 1024 * 1024,
      maxBatchCalls: options.maxBatchCalls ?? loadConfig({}).maxBatchCalls,
      requestTimeoutMs,
      checkReadiness:
        options.readiness?.({ runtime: appRuntime, queue: holds }) ??
        options.checkReadiness ??
        (async () => {}),
      corsOrigins: options.corsOrigins ?? [],
      dashboardDir: options.dashboardDir,
      trustedProxies: options.trustedProxies,
      databaseConnections:
        options.databaseConnections === true ? databaseConnectionsOf(appRuntime, "txn") : undefined,
    },
  )
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const call = async (
    path: string,
    input?: unknown,
    init: {
      method?: "GET" | "POST"
      headers?: Record<string, string>
      /** The bearer token to send: the test user's key unless given; null sends none. */
      auth?: string | null
    } = {},
  ): Promise<Answer> => {
    const method = init.method ?? "POST"
    const target =
      method === "GET"
        ? `${url}/trpc/${path}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`
        : `${url}/trpc/${path}`
    const response = await fetch(target, {
      method,
      headers: {
        "content-type": "application/json",
        ...(init.auth === null ? {} : { authorization: `Bearer ${init.auth ?? key}` }),
        ...init.headers,
      },
      ...(method === "POST" ? { body: JSON.stringify(input) } : {}),
    })
    if (response.headers.get("content-type")?.startsWith("text/event-stream") === true) {
      return answerOfStream(response)
    }
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Json,
    }
  }

  /** Calls of the router's procedures by path, typed by it, with `auth`'s bearer token. */
  const as = (auth: string | null) => ({
    /** A tRPC mutation over HTTP. */
    mutate: <Path extends MutationPath>(
      path: Path,
      ...[input]: InputArgs<Path>
    ): Promise<Answer<Output<Path>>> => call(path, input, { auth }),
    /** A tRPC query over HTTP. */
    query: <Path extends QueryPath>(
      path: Path,
      ...[input]: InputArgs<Path>
    ): Promise<Answer<Output<Path>>> => call(path, input, { method: "GET", auth }),
  })
  const asUser = as(key)

  let checkAnswer: ReturnType<typeof makeDocumentCheck> | undefined
  /**
   * A REST call; every answer is checked against the OpenAPI document the API serves, so code and
   * document cannot drift.
   */
  const rest = async (
    method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
    path: string,
    init: {
      body?: unknown
      headers?: Record<string, string>
      /** The bearer token to send: the test user's key unless given; null sends none. */
      auth?: string | null
    } = {},
  ) => {
    checkAnswer ??= makeDocumentCheck(await (await fetch(`${url}/openapi.json`)).json())
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.auth === null ? {} : { authorization: `Bearer ${init.auth ?? key}` }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
    const text = await response.text()
    const body: Json = text === "" ? undefined : JSON.parse(text)
    checkAnswer(method, path, response.status, response.headers, body)
    return { status: response.status, headers: response.headers, body }
  }

  return {
    url,
    userId,
    /** A REST call, its answer checked against /openapi.json. */
    rest,
    /** The test user's API key (read and write). */
    key,
    adminToken,
    newUser,
    logs,
    runtime: appRuntime,
    /** A tRPC mutation over HTTP, as the test user. */
    mutate: asUser.mutate,
    /** A tRPC query over HTTP, as the test user. */
    query: asUser.query,
    /** Typed calls with another bearer token (null sends none). */
    as,
    /**
     * Any call, untyped: for input the router would not accept, paths it does not have, and
     * extra request headers.
     */
    call,
    live,
    close: async () => {
      live.close()
      server.closeAllConnections()
      server.close()
      await holds.close()
      await queues.close()
      await appRuntime.dispose()
    },
  }
}

/**
 * A subscription's answer as a call's: its stream read until it opens (200, `connected`) or
 * fails (the error's status and body, as tRPC sends it in a `serialized-error` event), then
 * dropped; so the checks every procedure goes through can call subscriptions too.
 */
const answerOfStream = async (response: Response) => {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ""
  try {
    for (;;) {
      const chunk = await reader.read()
      if (chunk.done) throw new Error(`The stream ended before it opened or failed: ${text}`)
      text += chunk.value
      const error = /event: serialized-error\ndata: (.*)\n/.exec(text)
      if (error !== null) {
        const body = { error: JSON.parse(error[1]!) } as Json
        return { status: body.error.data.httpStatus as number, headers: response.headers, body }
      }
      if (/event: connected\n/.test(text)) {
        return { status: 200, headers: response.headers, body: { result: { data: null } } as Json }
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
}

export type TestApi = Awaited<ReturnType<typeof startTestApi>>

/**
 * A request through node:http, for what fetch cannot send: a header given twice (an array value
 * sends one line per item) or a body of arbitrary bytes.
 */
export const rawRequest = (
  url: string,
  init: {
    method?: string
    headers?: Record<string, string | Array<string>>
    body?: Uint8Array
    localAddress?: string
    agent?: Agent
  } = {},
): Promise<{
  status: number
  headers: IncomingHttpHeaders
  body: Json
  /** Whether the request went over a kept-alive connection of `agent`. */
  reusedSocket: boolean
}> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? "GET",
        headers: init.headers ?? {},
        ...(init.localAddress === undefined ? {} : { localAddress: init.localAddress }),
        ...(init.agent === undefined ? {} : { agent: init.agent }),
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          text += chunk
        })
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text),
            reusedSocket: req.reusedSocket,
          }),
        )
      },
    )
    req.on("error", reject)
    req.end(init.body)
  })

/** Who makes a typed call: the test user (`api`) or another credential (`api.as(key)`). */
export type Caller = Pick<TestApi, "mutate" | "query">

/** A new account of the caller's, in USD unless `input` says otherwise. */
export const createAccount = async (
  caller: Caller,
  input: Partial<Input<"accounts.create">> = {},
) => ok(await caller.mutate("accounts.create", { name: "Test account", currency: "USD", ...input }))

/** Money arriving from outside: a posted credit of `amount` to the account. */
export const fund = async (caller: Caller, accountId: string, amount: number, currency = "USD") =>
  ok(
    await caller.mutate("transactions.create", {
      accountId,
      direction: "credit",
      amount,
      currency,
      description: "Funding",
    }),
  )
