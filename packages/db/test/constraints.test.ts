import { type Account, newAccountId, newUserId, type UserId } from "@txn/domain"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  accountOf,
  createUser,
  insertAccount,
  insertRawTransaction as insertRawTransactionInto,
  makeRuntime,
  outcome,
  type TestRuntime,
} from "./fixtures.ts"

// Raw SQL on purpose: these are the database's own guarantees, whatever the repositories do.

let runtime: TestRuntime
let userId: UserId
let account: Account
let othersAccount: Account

beforeAll(async () => {
  runtime = makeRuntime()
  userId = await runtime.runPromise(createUser)
  account = await runtime.runPromise(insertAccount(accountOf(userId)))
  const other = await runtime.runPromise(createUser)
  othersAccount = await runtime.runPromise(insertAccount(accountOf(other)))
})
afterAll(() => runtime.dispose())

const insertRawTransaction = (fields: Record<string, unknown> = {}) =>
  insertRawTransactionInto(runtime, account, fields)

const insertRawAccount = (fields: Record<string, unknown> = {}) =>
  outcome(
    runtime,
    SqlClient.SqlClient.use((sql) => {
      const row = {
        id: newAccountId(),
        userId,
        name: "Raw",
        currency: "EUR",
        createdAt: "2026-01-15T12:00:00Z",
        updatedAt: "2026-01-15T12:00:00Z",
        ...fields,
      }
      return sql`insert into accounts ${sql.insert(row)}`
    }),
  )

const checkViolation = (constraint: string) => ({ rejected: true, code: "23514", constraint })
const foreignKeyViolation = (constraint: string) => ({ rejected: true, code: "23503", constraint })

describe("database constraints on transactions", () => {
  it("accepts a valid row, so each rejection below is caused by its one bad value", async () => {
    expect(await insertRawTransaction()).toEqual({ rejected: false })
  })

  it("accepts the largest exact amount, 2^53 - 1", async () => {
    expect(await insertRawTransaction({ amount: Number.MAX_SAFE_INTEGER })).toEqual({
      rejected: false,
    })
  })

  it.each([
    ["zero", 0],
    ["negative", -1],
    ["2^53, beyond exact JS numbers", "9007199254740992"],
  ])("rejects an amount that is %s", async (_, amount) => {
    expect(await insertRawTransaction({ amount })).toEqual(
      checkViolation("transactions_amount_check"),
    )
  })

  it.each(["usd", "US"])("rejects the currency %j", async (currency) => {
    expect(await insertRawTransaction({ currency })).toEqual(
      checkViolation("transactions_currency_check"),
    )
  })

  it("rejects the status 'done'", async () => {
    expect(await insertRawTransaction({ status: "done" })).toEqual(
      checkViolation("transactions_status_check"),
    )
  })

  it("rejects the direction 'sideways'", async () => {
    expect(await insertRawTransaction({ direction: "sideways" })).toEqual(
      checkViolation("transactions_direction_check"),
    )
  })

  it("rejects a currency other than its account's", async () => {
    expect(await insertRawTransaction({ currency: "USD" })).toEqual(
      foreignKeyViolation("transactions_account_id_user_id_currency_fkey"),
    )
  })

  it("rejects an account that belongs to another user", async () => {
    expect(
      await insertRawTransaction({ accountId: othersAccount.id, currency: othersAccount.currency }),
    ).toEqual(foreignKeyViolation("transactions_account_id_user_id_currency_fkey"))
  })

  it("rejects a user that does not exist, through its account's key", async () => {
    expect(await insertRawTransaction({ userId: newUserId() })).toEqual(
      foreignKeyViolation("transactions_account_id_user_id_currency_fkey"),
    )
  })

  it("keeps a user with transactions from being deleted, through their accounts", async () => {
    const owner = await runtime.runPromise(createUser)
    const owned = await runtime.runPromise(insertAccount(accountOf(owner)))
    expect(await insertRawTransactionInto(runtime, owned)).toEqual({ rejected: false })
    expect(
      await outcome(
        runtime,
        SqlClient.SqlClient.use((sql) => sql`delete from users where id = ${owner}`),
      ),
    ).toEqual(foreignKeyViolation("accounts_user_id_fkey"))
  })

  it("rejects metadata that is a JSON array", async () => {
    expect(await insertRawTransaction({ metadata: '["a"]' })).toEqual(
      checkViolation("transactions_metadata_check"),
    )
  })

  it.each([
    ["no prefix", "0123456789abcdefghijklmnop"],
    ["an account prefix", "acc_0123456789abcdefghijklmnop"],
  ])("rejects an id with %s", async (_, id) => {
    expect(await insertRawTransaction({ id })).toEqual(checkViolation("transactions_id_check"))
  })

  it("rejects an expiry on a posted transaction", async () => {
    expect(
      await insertRawTransaction({ status: "posted", expiresAt: "2026-02-01T00:00:00Z" }),
    ).toEqual(checkViolation("transactions_check"))
  })
})

describe("database constraints on accounts and users", () => {
  it("accepts a valid account row", async () => {
    expect(await insertRawAccount()).toEqual({ rejected: false })
  })

  it.each(["usd", "US"])("rejects the account currency %j", async (currency) => {
    expect(await insertRawAccount({ currency })).toEqual(checkViolation("accounts_currency_check"))
  })

  it("rejects account metadata that is a JSON array", async () => {
    expect(await insertRawAccount({ metadata: "[]" })).toEqual(
      checkViolation("accounts_metadata_check"),
    )
  })

  it("rejects an account id without the prefix", async () => {
    expect(await insertRawAccount({ id: newAccountId().slice(4) })).toEqual(
      checkViolation("accounts_id_check"),
    )
  })

  it("rejects a user id without the prefix", async () => {
    const result = await outcome(
      runtime,
      SqlClient.SqlClient.use(
        (sql) =>
          sql`insert into users (id, name) values (${newUserId().replace("usr_", "")}, 'No prefix')`,
      ),
    )
    expect(result).toEqual(checkViolation("users_id_check"))
  })
})
