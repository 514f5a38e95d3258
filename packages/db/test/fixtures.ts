import {
  Access,
  type Account,
  AccountRepository,
  Accounts,
  CredentialCache,
  HoldScheduler,
  newTransactionId,
  newUserId,
  type Transaction,
  type TransactionId,
  TransactionRepository,
  Transactions,
  UserRepository,
} from "@txn/domain"
import { testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type * as Redacted from "effect/Redacted"
import type * as SqlClient from "effect/sql/SqlClient"
import * as SqlClientTag from "effect/sql/SqlClient"
import type * as SqlError from "effect/sql/SqlError"
import {
  createMigratedDatabase,
  PgAccountRepository,
  PgApiKeyRepository,
  PgDatabase,
  PgIdempotencyStore,
  PgTransactionRepository,
  PgUserRepository,
} from "../src/index.ts"

/**
 * A migrated database of its own on the run's server, for a test whose figures another suite's
 * writes would move (the planner's statistics, say); `drop` removes it.
 */
export const createPrivateDatabase = (label: string) =>
  createMigratedDatabase(testDatabaseUrl(), label)

/** The repositories and their SqlClient over the run's database (or another one). */
export const makeRuntime = (url = testDatabaseUrl()) =>
  ManagedRuntime.make(
    Layer.mergeAll(
      PgAccountRepository.layer,
      PgTransactionRepository.layer,
      PgUserRepository.layer,
      PgApiKeyRepository.layer,
    ).pipe(Layer.provideMerge(PgDatabase.layer({ url, maxConnections: 4 }))),
  )

export type TestRuntime = ReturnType<typeof makeRuntime>

const noHolds = Layer.succeed(
  HoldScheduler,
  HoldScheduler.of({ schedule: () => Effect.void, scheduleMany: () => Effect.void }),
)

/**
 * The transaction use cases over their PostgreSQL repositories, as one API process runs them: a
 * pool of its own and, with `summaryCacheMax` above 0, a summary cache of its own. Holds are not
 * scheduled.
 */
export const makeUseCases = (
  url: Redacted.Redacted<string>,
  options: { readonly maxConnections: number; readonly summaryCacheMax?: number },
) =>
  ManagedRuntime.make(
    Transactions.layer.pipe(
      Layer.provideMerge(
        Layer.mergeAll(
          PgAccountRepository.layer,
          PgTransactionRepository.layerWith({ summaryCacheMax: options.summaryCacheMax ?? 0 }),
          PgIdempotencyStore.layer,
          PgUserRepository.layer,
          noHolds,
        ),
      ),
      Layer.provideMerge(PgDatabase.layer({ url, maxConnections: options.maxConnections })),
    ),
  )

export interface ScheduledHold {
  readonly id: TransactionId
  readonly expiresAt: Date
}

/**
 * The accounts, transactions and access use cases over the PostgreSQL ports on the run's
 * database, as the API wires them, except that holds are recorded in `scheduled` instead of
 * queued. A layer of its own per test: its pool closes when the test's effect ends.
 */
export const useCasesLayer = () => {
  const scheduled: Array<ScheduledHold> = []
  const holds = Layer.succeed(
    HoldScheduler,
    HoldScheduler.of({
      schedule: (id, expiresAt) => Effect.sync(() => void scheduled.push({ id, expiresAt })),
      scheduleMany: (due) =>
        Effect.sync(() => {
          for (const { id, expiresAt } of due) scheduled.push({ id, expiresAt })
        }),
    }),
  )
  const layer = Layer.mergeAll(Accounts.layer, Transactions.layer, Access.layer).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        PgAccountRepository.layer,
        PgTransactionRepository.layer,
        PgIdempotencyStore.layer,
        PgUserRepository.layer,
        PgApiKeyRepository.layer,
        CredentialCache.layerNone,
        holds,
      ),
    ),
    Layer.provideMerge(PgDatabase.layer({ url: testDatabaseUrl(), maxConnections: 2 })),
    Layer.orDie,
  )
  return { layer, scheduled }
}

/** Every test works as a user of its own, since other test files share the database. */
export const createUser = Effect.gen(function* () {
  const id = newUserId()
  yield* UserRepository.use((users) =>
    users.ensure({ id, name: "Test user", createdAt: new Date().toISOString() }),
  )
  return id
})

export const at = (iso: string) => new Date(iso).toISOString()

export { accountOf, transactionOf } from "@txn/testing"

export const insertAccount = (account: Account) =>
  AccountRepository.use((accounts) => accounts.insert(account))

export const insertTransaction = (transaction: Transaction) =>
  TransactionRepository.use((transactions) => transactions.insert(transaction))

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The order of every list: newest first, ties broken by id, both descending. */
export const newestFirst =
  <A extends { readonly id: string }>(key: (a: A) => string) =>
  (a: A, b: A) =>
    compare(key(b), key(a)) || compare(b.id, a.id)

/** How PostgreSQL answered a statement: its SQLSTATE and the constraint it broke, if any. */
export const outcome = <A>(
  runtime: TestRuntime,
  statement: Effect.Effect<A, SqlError.SqlError, SqlClient.SqlClient>,
) =>
  runtime.runPromise(
    statement.pipe(
      Effect.match({
        onSuccess: () => ({ rejected: false }),
        onFailure: (error) => {
          const cause = error.reason.cause as { code?: string; constraint?: string }
          return { rejected: true, code: cause.code, constraint: cause.constraint }
        },
      }),
    ),
  )

/**
 * A transaction row written with raw SQL into `account` (posted EUR debit of 100 unless `fields`
 * say otherwise), bypassing the repositories: for testing the database's own constraints.
 */
export const insertRawTransaction = (
  runtime: TestRuntime,
  account: Account,
  fields: Record<string, unknown> = {},
) =>
  outcome(
    runtime,
    SqlClientTag.SqlClient.use((sql) => {
      const row = {
        id: newTransactionId(),
        userId: account.userId,
        accountId: account.id,
        direction: "debit",
        amount: 100,
        currency: "EUR",
        status: "posted",
        occurredAt: "2026-01-15T12:00:00Z",
        createdAt: "2026-01-15T12:00:00Z",
        updatedAt: "2026-01-15T12:00:00Z",
        ...fields,
      }
      return sql`insert into transactions ${sql.insert(row)}`
    }),
  )
