/**
 * In-memory implementations of the domain's ports, for testing the use cases without PostgreSQL.
 * Like the real repositories, every read and write is scoped to the owning user. Each call of a
 * `layer…Memory` function starts from empty storage, so tests never share state.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import {
  Access,
  type Account,
  AccountRepository,
  Accounts,
  Actor,
  type ApiKey,
  ApiKeyRepository,
  type BalanceDeltas,
  balanceDeltas,
  balanceRefusal,
  batchBalanceRefusals,
  batchRefusal,
  type ClientTokenRecord,
  CredentialCache,
  type CursorPosition,
  decodeChangesCursor,
  decodeCursor,
  defaultLimit,
  type EventKind,
  encodeChangesCursor,
  encodeCursor,
  HoldScheduler,
  IdempotencyStore,
  InsufficientFunds,
  type Page,
  type StoredBalance,
  type SummaryTotals,
  type Transaction,
  type TransactionEvent,
  type TransactionId,
  TransactionRepository,
  Transactions,
  type User,
  UserRepository,
} from "../src/index.ts"

/** Newest first, ties broken by id, as `order by <at> desc, id desc` does. */
const page = <A extends { readonly id: string }>(
  rows: ReadonlyArray<A>,
  at: (row: A) => string,
  limit: number | undefined,
  cursor: string | undefined,
): Page<A> => {
  const position = (row: A): CursorPosition => ({ at: at(row), id: row.id })
  const before = (x: CursorPosition, y: CursorPosition) => {
    const diff = Date.parse(x.at) - Date.parse(y.at)
    return diff < 0 || (diff === 0 && x.id < y.id)
  }
  const after = cursor === undefined ? undefined : decodeCursor(cursor)
  const sorted = rows
    .filter((row) => after === undefined || before(position(row), after))
    .toSorted((x, y) => (before(position(x), position(y)) ? 1 : -1))
  const size = limit ?? defaultLimit
  const items = sorted.slice(0, size)
  const hasMore = sorted.length > size
  const last = items.at(-1)
  return {
    items,
    hasMore,
    nextCursor: hasMore && last !== undefined ? encodeCursor(position(last)) : null,
  }
}

/** What the account and transaction repositories share, as their tables do in PostgreSQL. */
export interface MemoryStore {
  readonly accounts: Map<string, Account>
  readonly balances: Map<string, StoredBalance>
  readonly entries: Array<{
    readonly accountId: string
    readonly deltas: StoredBalance
    readonly at: string
  }>
  /** Idempotency keys by `userId|key`, with the answer they gave. */
  readonly keys: Map<string, { hash: string; operation: string; response: unknown }>
}

export const memoryStore = (): MemoryStore => ({
  accounts: new Map(),
  balances: new Map(),
  entries: [],
  keys: new Map(),
})

const zero: StoredBalance = { posted: 0n, pendingCredits: 0n, pendingDebits: 0n }

const exact = (deltas: BalanceDeltas): StoredBalance => ({
  posted: BigInt(deltas.posted),
  pendingCredits: BigInt(deltas.pendingCredits),
  pendingDebits: BigInt(deltas.pendingDebits),
})

const plus = (a: StoredBalance, b: StoredBalance): StoredBalance => ({
  posted: a.posted + b.posted,
  pendingCredits: a.pendingCredits + b.pendingCredits,
  pendingDebits: a.pendingDebits + b.pendingDebits,
})

/** Applies a balance change, refusing one the account cannot take, by the rule PostgreSQL's has. */
const applyDeltas = (
  store: MemoryStore,
  accountId: string,
  deltas: BalanceDeltas,
  at: string,
  amount: number,
) =>
  Effect.gen(function* () {
    const before = store.balances.get(accountId) ?? zero
    const account = store.accounts.get(accountId)
    const refusal =
      account === undefined ? undefined : balanceRefusal(account, before, deltas, amount)
    if (refusal !== undefined) return yield* refusal
    store.balances.set(accountId, plus(before, exact(deltas)))
    store.entries.push({ accountId, deltas: exact(deltas), at })
  })

export const layerAccountRepositoryMemory = (
  store: MemoryStore = memoryStore(),
): Layer.Layer<AccountRepository> =>
  Layer.sync(AccountRepository, () => {
    const accounts = store.accounts
    return AccountRepository.of({
      update: (userId, input, now) =>
        Effect.gen(function* () {
          const current = accounts.get(input.id)
          if (current === undefined || current.userId !== userId) return Option.none()
          const stored = store.balances.get(input.id) ?? zero
          const available = Number(stored.posted - stored.pendingDebits)
          if (input.allowNegative === false && available < 0) {
            return yield* new InsufficientFunds({
              message: `Account ${input.id} has ${available} available; it must allow negative balances`,
              accountId: input.id,
              available,
              requested: 0,
            })
          }
          const { id: _, ...fields } = input
          const updated = { ...current, ...fields, updatedAt: now.toISOString() }
          accounts.set(input.id, updated)
          return Option.some(updated)
        }),
      balance: (userId, id, asOf) =>
        Effect.sync(() => {
          const account = accounts.get(id)
          if (account === undefined || account.userId !== userId) return Option.none()
          const totals =
            asOf === undefined
              ? (store.balances.get(id) ?? zero)
              : store.entries
                  .filter((e) => e.accountId === id && Date.parse(e.at) <= asOf.getTime())
                  .reduce((sum, e) => plus(sum, e.deltas), zero)
          return Option.some({
            accountId: account.id,
            currency: account.currency,
            posted: totals.posted,
            pending: totals.posted + totals.pendingCredits - totals.pendingDebits,
            available: totals.posted - totals.pendingDebits,
            asOf: asOf === undefined ? null : asOf.toISOString(),
          })
        }),
      insert: (account) =>
        Effect.sync(() => {
          accounts.set(account.id, account)
          return account
        }),
      findById: (userId, id) =>
        Effect.sync(() =>
          Option.fromNullishOr(accounts.get(id)).pipe(
            Option.filter((account) => account.userId === userId),
          ),
        ),
      findMany: (userId, ids) =>
        Effect.sync(() =>
          ids.flatMap((id) => {
            const account = accounts.get(id)
            return account !== undefined && account.userId === userId ? [account] : []
          }),
        ),
      list: (userId, query, within) =>
        Effect.sync(() =>
          page(
            [...accounts.values()].filter(
              (account) =>
                account.userId === userId &&
                (within == null || within.includes(account.id)) &&
                (query.currency === undefined || account.currency === query.currency),
            ),
            (account) => account.createdAt,
            query.limit,
            query.cursor,
          ),
        ),
    })
  })

export const layerTransactionRepositoryMemory = (
  store: MemoryStore = memoryStore(),
): Layer.Layer<TransactionRepository> =>
  Layer.sync(TransactionRepository, () => {
    const transactions = new Map<string, Transaction>()
    const owned = (userId: string, id: string) => {
      const found = transactions.get(id)
      return found !== undefined && found.userId === userId ? found : undefined
    }
    const events: Array<TransactionEvent & { readonly userId: string }> = []
    /** Records an event, reading the current Actor as the real repository does. */
    const record = (
      t: Transaction,
      kind: EventKind,
      changes: Record<string, { from: unknown; to: unknown }>,
    ) =>
      Effect.gen(function* () {
        const actor = yield* Actor
        events.push({
          seq: events.length + 1,
          userId: t.userId,
          transactionId: t.id,
          version: t.version,
          kind,
          actor,
          changes,
          at: t.updatedAt,
        })
      })
    const withoutUser = ({ userId: _, ...event }: TransactionEvent & { readonly userId: string }) =>
      event
    const isDue = (transaction: Transaction, now: Date) =>
      transaction.status === "pending" &&
      transaction.expiresAt !== null &&
      Date.parse(transaction.expiresAt) <= now.getTime()

    const insert = (transaction: Transaction) =>
      Effect.gen(function* () {
        yield* applyDeltas(
          store,
          transaction.accountId,
          balanceDeltas(transaction, null, transaction.status),
          transaction.createdAt,
          transaction.amount,
        )
        transactions.set(transaction.id, transaction)
        yield* record(
          transaction,
          "created",
          Object.fromEntries(
            Object.entries(transaction).map(([key, value]) => [key, { from: null, to: value }]),
          ),
        )
        return transaction
      })

    return TransactionRepository.of({
      insertMany: (batch) =>
        Effect.gen(function* () {
          const accounts = new Map(
            [...new Set(batch.map((t) => t.accountId))].flatMap((id) => {
              const account = store.accounts.get(id)
              return account === undefined
                ? []
                : [[id, { ...account, balance: store.balances.get(id) ?? zero }] as const]
            }),
          )
          const refusal = batchRefusal(
            batchBalanceRefusals(accounts, batch).map(({ index, error }) => ({
              index,
              field: "amount",
              error,
            })),
          )
          if (refusal !== undefined) return yield* refusal
          return yield* Effect.forEach(batch, insert)
        }),
      insert,
      create: (transaction, key) =>
        Effect.gen(function* () {
          const keyOf = key === undefined ? undefined : `${transaction.userId}|${key.key}`
          if (keyOf !== undefined && store.keys.has(keyOf)) return Option.none()
          const account = store.accounts.get(transaction.accountId)
          if (
            account === undefined ||
            account.userId !== transaction.userId ||
            account.currency !== transaction.currency
          ) {
            return Option.none()
          }
          const recorded = yield* insert(transaction)
          if (key !== undefined && keyOf !== undefined) {
            store.keys.set(keyOf, {
              hash: key.requestHash,
              operation: key.operation,
              response: key.response,
            })
          }
          return Option.some(recorded)
        }),
      history: (userId, id) =>
        Effect.sync(() =>
          owned(userId, id) === undefined
            ? Option.none()
            : Option.some(events.filter((e) => e.transactionId === id).map(withoutUser)),
        ),
      changes: (userId, q, within) =>
        Effect.sync(() => {
          const after = q.cursor === undefined ? 0 : (decodeChangesCursor(q.cursor)?.seq ?? 0)
          const limit = q.limit ?? defaultLimit
          const mine = events.filter(
            (e) =>
              e.userId === userId &&
              e.seq > after &&
              (within == null || within.includes(transactions.get(e.transactionId)!.accountId)),
          )
          const items = mine.slice(0, limit).map(withoutUser)
          const last = items.at(-1)?.seq ?? (q.cursor === undefined ? undefined : after)
          return {
            items,
            hasMore: mine.length > limit,
            // In memory every write commits at once, so seq order is commit order.
            nextCursor: last === undefined ? null : encodeChangesCursor({ xid: "0", seq: last }),
          }
        }),
      findById: (userId, id) => Effect.sync(() => Option.fromNullishOr(owned(userId, id))),
      summarize: (userId, q, within) =>
        Effect.sync(() => {
          const from = Date.parse(q.occurredFrom)
          const to = Date.parse(q.occurredTo)
          const groups = new Map<string, SummaryTotals>()
          for (const t of transactions.values()) {
            const at = Date.parse(t.occurredAt)
            if (t.userId !== userId || at < from || at >= to) continue
            if (t.status !== "posted" && t.status !== "reversed") continue
            if (q.accountId !== undefined && t.accountId !== q.accountId) continue
            if (within != null && !within.includes(t.accountId)) continue
            if (q.currency !== undefined && t.currency !== q.currency) continue
            const key =
              q.groupBy === "category"
                ? t.category
                : t.occurredAt.slice(0, q.groupBy === "day" ? 10 : 7)
            const id = `${t.currency}|${key}`
            const g = groups.get(id) ?? {
              key,
              currency: t.currency,
              credits: 0n,
              debits: 0n,
              count: 0,
            }
            const amount = BigInt(t.amount)
            groups.set(id, {
              ...g,
              credits: g.credits + (t.direction === "credit" ? amount : 0n),
              debits: g.debits + (t.direction === "debit" ? amount : 0n),
              count: g.count + 1,
            })
          }
          return [...groups.values()].toSorted(
            (a, b) =>
              a.currency.localeCompare(b.currency) ||
              (a.key === null
                ? 1
                : b.key === null
                  ? -1
                  : a.key < b.key
                    ? -1
                    : a.key > b.key
                      ? 1
                      : 0),
          )
        }),
      list: (userId, q, within) =>
        Effect.sync(() => {
          const search = q.search?.toLowerCase()
          const rows = [...transactions.values()].filter(
            (t) =>
              t.userId === userId &&
              (within == null || within.includes(t.accountId)) &&
              (q.accountId === undefined || t.accountId === q.accountId) &&
              (q.status === undefined || t.status === q.status) &&
              (q.direction === undefined || t.direction === q.direction) &&
              (q.category === undefined || t.category === q.category) &&
              (q.occurredFrom === undefined ||
                Date.parse(t.occurredAt) >= Date.parse(q.occurredFrom)) &&
              (q.occurredTo === undefined || Date.parse(t.occurredAt) < Date.parse(q.occurredTo)) &&
              (q.minAmount === undefined || t.amount >= q.minAmount) &&
              (q.maxAmount === undefined || t.amount <= q.maxAmount) &&
              (search === undefined ||
                [t.description, t.counterparty, t.reference].some((text) =>
                  text?.toLowerCase().includes(search),
                )),
          )
          return page(rows, (t) => t.occurredAt, q.limit, q.cursor)
        }),
      update: (userId, change, now) =>
        Effect.gen(function* () {
          const { id, expectedVersion, ...fields } = change
          const current = owned(userId, id)
          if (current === undefined || current.version !== expectedVersion) return Option.none()
          const updated: Transaction = {
            ...current,
            ...fields,
            version: current.version + 1,
            updatedAt: now.toISOString(),
          }
          transactions.set(id, updated)
          yield* record(
            updated,
            "updated",
            Object.fromEntries(
              Object.keys(fields).map((key) => [
                key,
                {
                  from: (current as Record<string, unknown>)[key],
                  to: (updated as Record<string, unknown>)[key],
                },
              ]),
            ),
          )
          return Option.some(updated)
        }),
      transition: (userId, id, expectedVersion, to, now) =>
        Effect.gen(function* () {
          const current = owned(userId, id)
          if (current === undefined) return { _tag: "Missing" } as const
          if (current.version !== expectedVersion || current.status !== "pending") {
            return { _tag: "Refused", current } as const
          }
          const changed: Transaction = {
            ...current,
            status: to,
            expiresAt: to === "posted" ? null : current.expiresAt,
            version: current.version + 1,
            updatedAt: now.toISOString(),
          }
          yield* applyDeltas(
            store,
            current.accountId,
            balanceDeltas(current, "pending", to),
            changed.updatedAt,
            current.amount,
          ).pipe(Effect.orDie)
          transactions.set(id, changed)
          yield* record(changed, to, { status: { from: "pending", to } })
          return { _tag: "Done", value: changed } as const
        }),
      reverse: (userId, expectedVersion, reversal, now) =>
        Effect.gen(function* () {
          const current =
            reversal.reversalOf === null ? undefined : owned(userId, reversal.reversalOf)
          if (current === undefined) return { _tag: "Missing" } as const
          if (
            current.version !== expectedVersion ||
            current.status !== "posted" ||
            current.reversalOf !== null
          ) {
            return { _tag: "Refused", current } as const
          }
          yield* applyDeltas(
            store,
            reversal.accountId,
            balanceDeltas(reversal, null, "posted"),
            reversal.createdAt,
            reversal.amount,
          )
          transactions.set(reversal.id, reversal)
          yield* record(reversal, "created", { reversalOf: { from: null, to: current.id } })
          const original: Transaction = {
            ...current,
            status: "reversed",
            reversedBy: reversal.id,
            version: current.version + 1,
            updatedAt: now.toISOString(),
          }
          transactions.set(original.id, original)
          yield* record(original, "reversed", {
            status: { from: "posted", to: "reversed" },
            reversedBy: { from: null, to: reversal.id },
          })
          return { _tag: "Done", value: { original, reversal } } as const
        }),
      expire: (id, now) =>
        Effect.sync(() => {
          const current = transactions.get(id)
          if (current === undefined) return "missing"
          if (current.status !== "pending") return "notPending"
          if (!isDue(current, now)) return "notDue"
          const voided: Transaction = {
            ...current,
            status: "voided",
            version: current.version + 1,
            updatedAt: now.toISOString(),
          }
          const deltas = exact(balanceDeltas(current, "pending", "voided"))
          store.balances.set(
            current.accountId,
            plus(store.balances.get(current.accountId) ?? zero, deltas),
          )
          store.entries.push({ accountId: current.accountId, deltas, at: voided.updatedAt })
          transactions.set(id, voided)
          return voided
        }).pipe(
          Effect.flatMap((outcome) =>
            typeof outcome === "string"
              ? Effect.succeed(outcome)
              : Effect.as(
                  record(outcome, "expired", { status: { from: "pending", to: "voided" } }),
                  "voided" as const,
                ),
          ),
        ),
      findExpired: (now, limit) =>
        Effect.sync(() =>
          [...transactions.values()]
            .filter((t) => isDue(t, now))
            .toSorted((x, y) => Date.parse(x.expiresAt!) - Date.parse(y.expiresAt!))
            .slice(0, limit)
            .map((t) => t.id),
        ),
    })
  })

export const layerUserRepositoryMemory = (): Layer.Layer<UserRepository> =>
  Layer.sync(UserRepository, () => {
    const users = new Map<string, User>()
    return UserRepository.of({
      ensure: (user) =>
        Effect.sync(() => {
          const existing = users.get(user.id)
          if (existing !== undefined) return existing
          users.set(user.id, user)
          return user
        }),
      findById: (id) => Effect.sync(() => Option.fromNullishOr(users.get(id))),
    })
  })

/** Keys by hash, as the real table; `use` marks a key used at most once a minute. */
export const layerApiKeyRepositoryMemory = (): Layer.Layer<ApiKeyRepository> =>
  Layer.sync(ApiKeyRepository, () => {
    const keys = new Map<string, { key: ApiKey; hash: string }>()
    const tokens = new Map<string, ClientTokenRecord>()
    return ApiKeyRepository.of({
      insert: (key, hash) =>
        Effect.sync(() => {
          keys.set(key.id, { key, hash })
          return key
        }),
      use: (hash, now) =>
        Effect.sync(() => {
          const found = [...keys.values()].find((k) => k.hash === hash && k.key.revokedAt === null)
          if (found === undefined) return Option.none()
          const last = found.key.lastUsedAt
          if (last === null || now.getTime() - Date.parse(last) >= 60_000) {
            found.key = { ...found.key, lastUsedAt: now.toISOString() }
          }
          const { id, userId, scopes } = found.key
          return Option.some({
            keyId: id,
            userId,
            scopes,
            via: "key" as const,
            accountIds: null,
            expiresAt: null,
          })
        }),
      insertClientToken: (token, hash) =>
        Effect.sync(() => {
          if (keys.get(token.apiKeyId)?.key.revokedAt !== null) return { _tag: "KeyRevoked" }
          tokens.set(hash, token)
          return { _tag: "Inserted" }
        }),
      useClientToken: (hash, now) =>
        Effect.sync(() => {
          const token = tokens.get(hash)
          const key = token === undefined ? undefined : keys.get(token.apiKeyId)?.key
          if (token === undefined || key === undefined || key.revokedAt !== null) {
            return Option.none()
          }
          if (Date.parse(token.expiresAt) <= now.getTime()) return Option.none()
          return Option.some({
            keyId: key.id,
            userId: token.userId,
            scopes: token.scopes.filter((scope) => key.scopes.includes(scope)),
            via: "token" as const,
            accountIds: token.accountIds,
            expiresAt: token.expiresAt,
          })
        }),
      markUsed: (uses) =>
        Effect.sync(() => {
          for (const { keyId, at } of uses) {
            const found = keys.get(keyId)
            const last = found?.key.lastUsedAt
            if (found !== undefined && (last === null || Date.parse(last ?? "") < at.getTime())) {
              found.key = { ...found.key, lastUsedAt: at.toISOString() }
            }
          }
        }),
      revoke: (id, now) =>
        Effect.sync(() => {
          const found = keys.get(id)
          if (found === undefined) return Option.none()
          if (found.key.revokedAt === null) {
            found.key = { ...found.key, revokedAt: now.toISOString() }
          }
          return Option.some(found.key)
        }),
      listByUser: (userId) =>
        Effect.sync(() =>
          [...keys.values()].map((k) => k.key).filter((key) => key.userId === userId),
        ),
    })
  })

export interface ScheduledHold {
  readonly id: TransactionId
  readonly expiresAt: Date
}

/** Records every `schedule` call in `calls` instead of queueing a job. */
export const layerHoldSchedulerMemory = (calls: Array<ScheduledHold>): Layer.Layer<HoldScheduler> =>
  Layer.succeed(
    HoldScheduler,
    HoldScheduler.of({
      schedule: (id, expiresAt) =>
        Effect.sync(() => {
          calls.push({ id, expiresAt })
        }),
      scheduleMany: (holds) =>
        Effect.sync(() => {
          for (const { id, expiresAt } of holds) calls.push({ id, expiresAt })
        }),
    }),
  )

/** Keys in memory; `atomically` adds nothing, as memory writes cannot half-fail. */
export const layerIdempotencyStoreMemory = (
  store: MemoryStore = memoryStore(),
): Layer.Layer<IdempotencyStore> =>
  Layer.sync(IdempotencyStore, () => {
    const keys = store.keys
    return IdempotencyStore.of({
      claim: (userId, key, operation, hash) =>
        Effect.sync(() => {
          const found = keys.get(`${userId}|${key}`)
          if (found === undefined) {
            keys.set(`${userId}|${key}`, { hash, operation, response: undefined })
            return { _tag: "Claimed" } as const
          }
          return found.hash !== hash || found.operation !== operation
            ? ({ _tag: "Mismatch" } as const)
            : ({ _tag: "Replay", response: found.response } as const)
        }),
      complete: (userId, key, response) =>
        Effect.sync(() => {
          const found = keys.get(`${userId}|${key}`)
          if (found !== undefined) found.response = response
        }),
      lookup: (userId, key, operation, hash) =>
        Effect.sync(() => {
          const found = keys.get(`${userId}|${key}`)
          if (found === undefined) return { _tag: "Free" } as const
          return found.hash !== hash || found.operation !== operation
            ? ({ _tag: "Mismatch" } as const)
            : ({ _tag: "Replay", response: found.response } as const)
        }),
      atomically: (effect) => effect,
    })
  })

/** The use cases on fresh in-memory ports; `scheduled` fills as holds are scheduled. */
export const layerMemory = () => {
  const scheduled: Array<ScheduledHold> = []
  const store = memoryStore()
  const ports = Layer.mergeAll(
    layerAccountRepositoryMemory(store),
    layerTransactionRepositoryMemory(store),
    layerUserRepositoryMemory(),
    layerApiKeyRepositoryMemory(),
    layerHoldSchedulerMemory(scheduled),
    layerIdempotencyStoreMemory(store),
    CredentialCache.layerNone,
  )
  const layer = Layer.mergeAll(Accounts.layer, Transactions.layer, Access.layer).pipe(
    Layer.provideMerge(ports),
  )
  return { layer, scheduled }
}
