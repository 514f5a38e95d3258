import {
  Account,
  Actor,
  type CreateTransaction,
  type Currency,
  Export,
  newExportId,
  Transaction,
  Transactions,
  Transfer,
  Webhook,
} from "@txn/domain"
import { testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  PgAccountRepository,
  PgExportBuilder,
  PgTransactionRepository,
  PgTransferRepository,
  PgWebhookRepository,
} from "../src/index.ts"
import { accountOf, createUser, insertAccount, makeUseCases } from "./fixtures.ts"

let runtime: ReturnType<typeof makeUseCases>
beforeAll(() => {
  runtime = makeUseCases(testDatabaseUrl(), { maxConnections: 2 })
})
afterAll(() => runtime.dispose())

const query = <Row extends object>(text: string, ...params: ReadonlyArray<unknown>) =>
  runtime.runPromise(
    SqlClient.SqlClient.use((sql) => sql.unsafe<Row>(text, params as Array<unknown>)),
  )

const tableColumns = async (table: string) =>
  (
    await query<{ readonly name: string }>(
      `select column_name as name from information_schema.columns
        where table_schema = current_schema() and table_name = $1 and is_generated = 'NEVER'`,
      table,
    )
  ).map((column) => column.name)

/**
 * Each entity's row schema against its domain schema and its table. Columns a table keeps
 * besides the entity's own fields (generated ones aside) are named here, so a new column or
 * field needs a decision.
 */
const entities = [
  {
    table: "transactions",
    row: PgTransactionRepository.TransactionRow,
    columns: PgTransactionRepository.columns,
    domain: Transaction,
    keptApart: [],
  },
  {
    table: "accounts",
    row: PgAccountRepository.AccountRow,
    columns: PgAccountRepository.columns,
    domain: Account,
    // The balance figures, read by `balances` and `balance`.
    keptApart: ["posted_balance", "pending_credits", "pending_debits"],
  },
  {
    table: "transfers",
    row: PgTransferRepository.TransferRow,
    columns: PgTransferRepository.columns,
    domain: Transfer,
    keptApart: [],
  },
  {
    table: "webhooks",
    row: PgWebhookRepository.WebhookRow,
    columns: PgWebhookRepository.columns,
    domain: Webhook,
    // The owner, and the signing secret, shown once when the endpoint is created.
    keptApart: ["user_id", "secret"],
  },
] as const

describe.each(entities)("the $table row schema", ({ table, row, columns, domain, keptApart }) => {
  it("has the domain's fields in the domain's order", () => {
    expect(Object.keys(row.fields)).toEqual(Object.keys(domain.fields))
  })

  it("reads every column of the table but those kept apart", async () => {
    expect([...columns.split(", "), ...keptApart].toSorted()).toEqual(
      (await tableColumns(table)).toSorted(),
    )
  })
})

describe("a transaction's event JSON", () => {
  it("is the transaction as the API answers it, at every version", async () => {
    const userId = await runtime.runPromise(createUser)
    const account = await runtime.runPromise(
      insertAccount(accountOf(userId, { currency: "JPY" as Currency })),
    )
    const use = <A, E>(effect: Effect.Effect<A, E, Transactions>) =>
      runtime.runPromise(effect.pipe(Effect.provideService(Actor, "key_shapes")))
    const created = await use(
      Transactions.use((t) =>
        t.create(userId, {
          accountId: account.id,
          direction: "credit",
          amount: 9_007_199_254_740_991,
          currency: account.currency,
          status: "pending",
          description: "Rent ✓",
          category: "housing",
          counterparty: "Landlord",
          reference: "r-1",
          occurredAt: "2026-03-01T10:00:00.123Z",
          expiresAt: "2126-03-01T10:00:00.000Z",
          metadata: { invoice: "7" },
        } as CreateTransaction),
      ),
    )
    const updated = await use(
      Transactions.use((t) =>
        t.update(userId, { id: created.id, description: null, expectedVersion: 1 }),
      ),
    )
    const posted = await use(
      Transactions.use((t) => t.post(userId, { id: created.id, expectedVersion: 2 })),
    )
    for (const version of [created, updated, posted]) {
      const [event] = await query<{ readonly json: unknown }>(
        "select txn_transaction_json_at($1, $2) as json",
        version.id,
        version.version,
      )
      const { replayed: _, ...expected } = version as typeof version & { replayed?: true }
      expect(Schema.decodeUnknownSync(Transaction)(event!.json)).toEqual(expected)
    }
  })
})

describe("an export's JSON", () => {
  it("has the domain's fields and decodes as an Export", async () => {
    const userId = await runtime.runPromise(createUser)
    const [row] = await query<{ readonly json: Record<string, unknown> }>(
      `insert into exports (id, user_id, filters, created_at, expires_at)
       values ($1, $2, '{}'::jsonb, now(), now() + interval '1 day')
       returning txn_export_json(exports) as json`,
      newExportId(),
      userId,
    )
    expect(Object.keys(row!.json).toSorted()).toEqual(Object.keys(Export.fields).toSorted())
    expect(() => Schema.decodeUnknownSync(Export)(row!.json)).not.toThrow()
  })
})

describe("the CSV's columns", () => {
  it("are the transaction's fields but its owner, hold expiry and version", () => {
    expect(
      Object.keys(Transaction.fields).filter(
        (field) => !(PgExportBuilder.csvColumns as ReadonlyArray<string>).includes(field),
      ),
    ).toEqual(["userId", "expiresAt", "version"])
  })
})
