import {
  type Account,
  AccountRepository,
  type Currency,
  HoldScheduler,
  newAccountId,
  newTransactionId,
  newUserId,
  type Transaction,
  TransactionRepository,
  Transactions,
  type UserId,
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
  PgAccountRepository,
  PgApiKeyRepository,
  PgDatabase,
  PgIdempotencyStore,
  PgTransactionRepository,
  PgUserRepository,
} from "../src/index.ts"

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

/** Every test works as a user of its own, since other test files share the database. */
export const createUser = Effect.gen(function* () {
  const id = newUserId()
  yield* UserRepository.use((users) =>
    users.ensure({ id, name: "Test user", createdAt: new Date().toISOString() }),
  )
  return id
})

export const at = (iso: string) => new Date(iso).toISOString()

export const accountOf = (userId: UserId, fields: Partial<Account> = {}): Account => ({
  id: newAccountId(),
  userId,
  name: "Everyday",
  currency: "EUR" as Currency,
  allowNegative: false,
  metadata: {},
  createdAt: at("2026-01-01T00:00:00Z"),
  updatedAt: at("2026-01-01T00:00:00Z"),
  ...fields,
})

export const transactionOf = (
  account: Account,
  fields: Partial<Transaction> = {},
): Transaction => ({
  id: newTransactionId(),
  accountId: account.id,
  userId: account.userId,
  direction: "debit",
  amount: 1_000,
  currency: account.currency,
  status: "posted",
  description: null,
  category: null,
  counterparty: null,
  reference: null,
  occurredAt: at("2026-01-15T12:00:00Z"),
  expiresAt: null,
  metadata: {},
  version: 1,
  reversalOf: null,
  reversedBy: null,
  transferId: null,
  createdAt: at("2026-01-15T12:00:00Z"),
  updatedAt: at("2026-01-15T12:00:00Z"),
  ...fields,
})

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
