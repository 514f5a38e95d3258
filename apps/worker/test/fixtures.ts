import {
  createMigratedDatabase,
  PgAccountRepository,
  PgDatabase,
  PgTransactionRepository,
  PgUserRepository,
} from "@txn/db"
import {
  type Account,
  AccountRepository,
  HoldScheduler,
  newUserId,
  type Transaction,
  TransactionRepository,
  type UserId,
  UserRepository,
} from "@txn/domain"
import { makeAppLayer, makeLog } from "@txn/platform"
import {
  accountOf,
  LogCapture,
  startCountingProxy,
  testDatabaseUrl,
  transactionOf,
} from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import type { WorkerRuntime } from "../src/WorkerRuntime.ts"

/**
 * A migrated database of its own on the run's server. The expiry sweep voids every overdue hold
 * in the database it runs on, so running it on the shared run database would void other test
 * files' fixtures (holds with expiries in the past, read back as pending).
 */
export const createPrivateDatabase = (label: string) =>
  createMigratedDatabase(testDatabaseUrl(), label)

export { LogCapture }

/** Repositories only, for arranging rows the use cases would refuse to create (overdue holds). */
export const makeRepositoryRuntime = (url: Redacted.Redacted<string>) =>
  ManagedRuntime.make(
    Layer.mergeAll(
      PgAccountRepository.layer,
      PgTransactionRepository.layer,
      PgUserRepository.layer,
    ).pipe(Layer.provideMerge(PgDatabase.layer({ url, maxConnections: 2 }))),
  )

/**
 * The worker's runtime over the database at `url` through a loopback hop that counts the
 * statements sent, for jobs whose round trips a test counts. Holds are not scheduled.
 */
export const countedRuntime = async (url: Redacted.Redacted<string>) => {
  const target = new URL(Redacted.value(url))
  const proxy = await startCountingProxy({
    host: target.hostname,
    port: Number(target.port || 5432),
  })
  target.host = `127.0.0.1:${proxy.port}`
  const runtime: WorkerRuntime = ManagedRuntime.make(
    makeAppLayer({
      databaseUrl: Redacted.make(target.href),
      databasePoolMax: 2,
      holdScheduler: Layer.succeed(
        HoldScheduler,
        HoldScheduler.of({ schedule: () => Effect.void, scheduleMany: () => Effect.void }),
      ),
      log: makeLog({ name: "worker", level: "warn", destination: new LogCapture() }),
    }),
  )
  return {
    runtime,
    statements: proxy.statements,
    close: async () => {
      await runtime.dispose()
      await proxy.close()
    },
  }
}

/** A user and a EUR account of their own, which may go negative or not as asked. */
export const createAccountWith = (options: { readonly allowNegative: boolean }) =>
  Effect.gen(function* () {
    const userId: UserId = newUserId()
    const now = new Date().toISOString()
    yield* UserRepository.use((users) =>
      users.ensure({ id: userId, name: "Worker test", createdAt: now }),
    )
    return yield* AccountRepository.use((accounts) =>
      accounts.insert(
        accountOf(userId, {
          name: "Holds",
          allowNegative: options.allowNegative,
          createdAt: now,
          updatedAt: now,
        }),
      ),
    )
  })

/**
 * A user and a EUR account that may go negative: the tests using it hold and void debits on an
 * account nobody funded, and are about expiry, not funds.
 */
export const createAccount = createAccountWith({ allowNegative: true })

/** A pending debit of 2,500 made now, written straight to the table, with no job scheduled for it. */
export const insertTransaction = (account: Account, fields: Partial<Transaction>) => {
  const now = new Date().toISOString()
  return TransactionRepository.use((transactions) =>
    transactions.insert(
      transactionOf(account, {
        amount: 2_500,
        status: "pending",
        occurredAt: now,
        createdAt: now,
        updatedAt: now,
        ...fields,
      }),
    ),
  )
}

export const secondsFromNow = (seconds: number) =>
  new Date(Date.now() + seconds * 1_000).toISOString()
