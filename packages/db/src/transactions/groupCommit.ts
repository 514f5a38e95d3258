import {
  Actor,
  type BalanceLimitExceeded,
  type IdempotencyRecord,
  type InsufficientFunds,
  type Transaction,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import type * as SqlClient from "effect/sql/SqlClient"
import { atPort, retryingConflicts, typed } from "../DatabaseError.ts"
import { createGroupStatement, type GroupedCreate } from "../PgTransactionBatch.ts"
import { createTransaction } from "./write.ts"

/** One single create waiting for its group's statement. */
interface GroupedCreateRequest
  extends Request.Request<Option.Option<Transaction>, InsufficientFunds | BalanceLimitExceeded>,
    GroupedCreate {
  readonly _tag: "GroupedCreate"
}
const GroupedCreateRequest = Request.tagged<GroupedCreateRequest>("GroupedCreate")

type Entry = Request.Entry<GroupedCreateRequest>

export interface GroupCommitOptions {
  /** Groups written at once; the next group gathers while they run. */
  readonly concurrency: number
  /** The most creates one statement carries. */
  readonly maxGroup: number
}

export const defaultGroupCommit: GroupCommitOptions = { concurrency: 2, maxGroup: 200 }

/**
 * Single creates from concurrent callers, written a group per statement (group commit): while
 * `concurrency` groups are being written, the creates that arrive wait and go together in the
 * next one, so under load a create costs the database a share of one statement and one commit,
 * and an account many callers write to is locked once per group instead of once per create. A
 * create that arrives while fewer are being written goes at once, alone, as `createStatement`
 * writes it. Each create keeps what it has alone: its key, row, event, ledger entry and balance
 * change are in one database transaction, and its answer is its own. Creates the group could not
 * take whole (see `createGroupStatement`), a second create with a key already in the group, and
 * every create of a group whose statement failed are then written one at a time.
 */
export const groupCommit = (
  sql: SqlClient.SqlClient,
  options: GroupCommitOptions = defaultGroupCommit,
) => {
  const port = atPort(sql)
  let running = 0
  const waiting: Array<() => void> = []
  /** Lets a gathering group go once fewer than `concurrency` are being written. */
  const turn = Effect.callback<void>((resume) => {
    if (running < options.concurrency) return resume(Effect.void)
    const go = () => resume(Effect.void)
    waiting.push(go)
    return Effect.sync(() => {
      const at = waiting.indexOf(go)
      if (at !== -1) waiting.splice(at, 1)
    })
  })

  const alone = (entry: Entry) =>
    port(createTransaction(sql, entry.request.transaction, entry.request.key)).pipe(
      Effect.provideService(Actor, entry.request.actor),
      Effect.exit,
      Effect.map((exit) => entry.completeUnsafe(exit)),
    )
  const eachAlone = (entries: ReadonlyArray<Entry>) =>
    Effect.forEach(entries, alone, { concurrency: "unbounded", discard: true })

  const write = Effect.fnUntraced(function* (entries: ReadonlyArray<Entry>) {
    if (entries.length === 1) return yield* eachAlone(entries)
    const keys = new Set<string>()
    const group: Array<Entry> = []
    const later: Array<Entry> = []
    for (const entry of entries) {
      const key = entry.request.key
      const id = key === undefined ? undefined : `${entry.request.transaction.userId} ${key.key}`
      if (id !== undefined && keys.has(id)) later.push(entry)
      else {
        if (id !== undefined) keys.add(id)
        group.push(entry)
      }
    }
    const outcome = yield* retryingConflicts(
      typed(
        createGroupStatement(
          sql,
          group.map((entry) => entry.request),
        ),
      ),
    ).pipe(Effect.exit)
    if (Exit.isFailure(outcome)) {
      yield* eachAlone(group)
    } else {
      const written = new Set<string>()
      const unfit = new Set<string>()
      for (const row of outcome.value) {
        if (row.outcome === "written") written.add(row.id)
        else if (row.outcome === "unfit") unfit.add(row.id)
      }
      const undecided: Array<Entry> = []
      for (const entry of group) {
        const t = entry.request.transaction
        if (written.has(t.id)) entry.completeUnsafe(Exit.succeed(Option.some(t)))
        else if (unfit.has(t.accountId)) undecided.push(entry)
        // Its key was taken, or the account is not the user's in that currency: nothing was
        // recorded, and the use case tells which, as after `createStatement`.
        else entry.completeUnsafe(Exit.succeed(Option.none()))
      }
      yield* eachAlone(undecided)
    }
    yield* Effect.forEach(later, alone, { discard: true })
  })

  const resolver = RequestResolver.makeWith<GroupedCreateRequest>({
    batchKey: () => "group",
    delay: turn,
    collectWhile: (entries) => entries.size < options.maxGroup,
    runAll: (entries) =>
      Effect.suspend(() => {
        running++
        return write(entries)
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            running--
            waiting.shift()?.()
          }),
        ),
      ),
  })

  return (transaction: Transaction, key: IdempotencyRecord | undefined) =>
    Effect.gen(function* () {
      const actor = yield* Actor
      return yield* Effect.request(GroupedCreateRequest({ transaction, actor, key }), resolver)
    })
}
