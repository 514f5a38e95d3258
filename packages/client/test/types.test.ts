import { describe, expectTypeOf, it } from "vitest"
import {
  createTxnClient,
  type ErrorDetails,
  type errorTag,
  type FieldIssue,
  isTxnError,
  type TxnClient,
  type TxnClientError,
  type TxnClientOptions,
  type TxnError,
  type TxnErrorTag,
} from "../src/index.ts"

type ItemFailure = NonNullable<ErrorDetails["NotFound"]["failures"]>[number]

// These tests are checked by `npm run typecheck` (tsc covers test/); at run time they only prove the
// file loads. Calls sit in functions that never run, so no request is made.
const client: TxnClient = createTxnClient({ url: "http://127.0.0.1:1" })
const typeOnly = (_call: () => unknown): void => undefined
const debit = { accountId: "acc_1", direction: "debit", amount: 1, currency: "USD" } as const

type Statuses = "pending" | "posted" | "voided" | "reversed"
type Transaction = Awaited<ReturnType<TxnClient["transactions"]["get"]["query"]>>
type Page = Awaited<ReturnType<TxnClient["transactions"]["list"]["query"]>>
type Account = Awaited<ReturnType<TxnClient["accounts"]["create"]["mutate"]>>
type ErrorData = NonNullable<TxnClientError["data"]>
type Batch = Awaited<ReturnType<TxnClient["transactions"]["createMany"]["mutate"]>>
/** The list filter, without the `void` that lets it be left out. */
type ListInput = Extract<Parameters<TxnClient["transactions"]["list"]["query"]>[0], object>

describe("the client's types follow the API", () => {
  it("types a transaction's fields as the API returns them", () => {
    expectTypeOf<Transaction["amount"]>().toEqualTypeOf<number>()
    expectTypeOf<Transaction["version"]>().toEqualTypeOf<number>()
    expectTypeOf<Transaction["status"]>().toEqualTypeOf<Statuses>()
    expectTypeOf<Transaction["direction"]>().toEqualTypeOf<"credit" | "debit">()
    expectTypeOf<Transaction["description"]>().toEqualTypeOf<string | null>()
    expectTypeOf<Transaction["expiresAt"]>().toEqualTypeOf<string | null>()
    expectTypeOf<Transaction["occurredAt"]>().toEqualTypeOf<string>()
    expectTypeOf<Transaction["metadata"]>().toEqualTypeOf<{ readonly [key: string]: string }>()
    expectTypeOf<Transaction["id"]>().toExtend<string>()
    expectTypeOf<Transaction["currency"]>().toExtend<string>()
    expectTypeOf<Transaction>().not.toHaveProperty("amountMinor")
  })

  it("types a batch create's answer as the transactions it recorded", () => {
    expectTypeOf<Batch["transactions"][number]>().toEqualTypeOf<Transaction>()
    expectTypeOf<Batch["replayed"]>().toEqualTypeOf<true | undefined>()
    typeOnly(() => client.transactions.createMany.mutate({ transactions: [debit] }))
    typeOnly(() =>
      client.transactions.createMany.mutate({
        // @ts-expect-error: each item is a create without its own idempotency key
        transactions: [{ ...debit, idempotencyKey: "k" }],
      }),
    )
  })

  it("types a page of transactions", () => {
    expectTypeOf<Page["items"]>().toEqualTypeOf<ReadonlyArray<Transaction>>()
    expectTypeOf<Page["nextCursor"]>().toEqualTypeOf<string | null>()
    expectTypeOf<Page["hasMore"]>().toEqualTypeOf<boolean>()
  })

  it("lets an id read from one answer be sent in the next call", () => {
    expectTypeOf<Account["id"]>().toExtend<
      Parameters<TxnClient["accounts"]["get"]["query"]>[0]["id"]
    >()
    expectTypeOf<Transaction["id"]>().toExtend<
      Parameters<TxnClient["transactions"]["update"]["mutate"]>[0]["id"]
    >()
    expectTypeOf<Page["nextCursor"] & string>().toExtend<NonNullable<ListInput["cursor"]>>()
  })

  it("takes inputs as plain JSON: ids and currencies are strings", () => {
    typeOnly(() => client.transactions.get.query({ id: "txn_00000000000000000000000000" }))
    typeOnly(() =>
      client.transactions.create.mutate({
        accountId: "acc_00000000000000000000000000",
        direction: "debit",
        amount: 100,
        currency: "USD",
      }),
    )
    typeOnly(() => client.transactions.list.query())
    typeOnly(() => client.accounts.list.query({ currency: "EUR", limit: 10 }))
    expectTypeOf<ListInput["status"]>().toEqualTypeOf<Statuses | undefined>()
  })

  it("rejects inputs the API would refuse", () => {
    // @ts-expect-error: the id is required
    typeOnly(() => client.transactions.get.query({}))
    // @ts-expect-error: amounts are numbers of minor units, not strings
    typeOnly(() => client.transactions.create.mutate({ ...debit, amount: "1" }))
    // @ts-expect-error: only credit and debit are directions
    typeOnly(() => client.transactions.create.mutate({ ...debit, direction: "refund" }))
    // @ts-expect-error: a transaction is created pending or posted, never voided
    typeOnly(() => client.transactions.create.mutate({ ...debit, status: "voided" }))
    // @ts-expect-error: amounts never change through an update
    typeOnly(() => client.transactions.update.mutate({ id: "t", amount: 5 }))
    // @ts-expect-error: expectedVersion is a number
    typeOnly(() => client.transactions.update.mutate({ id: "t", expectedVersion: "1" }))
    // @ts-expect-error: no such filter
    typeOnly(() => client.transactions.list.query({ colour: "red" }))
  })

  it("rejects procedures the API does not have", () => {
    // @ts-expect-error: there is no transactions.delete
    typeOnly(() => client.transactions.delete.mutate({ id: "t" }))
    // @ts-expect-error: there is no ledgers router
    typeOnly(() => client.ledgers.list.query())
    // @ts-expect-error: accounts.delete does not exist
    typeOnly(() => client.accounts.delete.mutate({ id: "a" }))
    // @ts-expect-error: a mutation cannot be called as a query
    typeOnly(() => client.transactions.create.query({}))
    // @ts-expect-error: a query cannot be called as a mutation
    typeOnly(() => client.transactions.get.mutate({ id: "t" }))
  })
})

describe("error types", () => {
  it("gives error tags as a union of the API's tags, not any string", () => {
    type Tag = NonNullable<ReturnType<typeof errorTag>>
    expectTypeOf<"VersionConflict">().toExtend<Tag>()
    expectTypeOf<"ValidationError">().toExtend<Tag>()
    expectTypeOf<"NotFound">().toExtend<Tag>()
    expectTypeOf<"BalanceLimitExceeded">().toExtend<Tag>()
    expectTypeOf<"InternalError">().toExtend<Tag>()
    expectTypeOf<"MethodNotAllowed">().toExtend<Tag>()
    expectTypeOf<string>().not.toExtend<Tag>()
    expectTypeOf<undefined>().toExtend<ReturnType<typeof errorTag>>()
    expectTypeOf<ErrorData["tag"]>().toEqualTypeOf<Tag>()
  })

  it("narrows an unknown error with isTxnError, its details typed for the tag", () => {
    const error: unknown = new Error("not an API error")
    if (isTxnError(error, "VersionConflict")) {
      expectTypeOf(error).toEqualTypeOf<TxnError<"VersionConflict">>()
      expectTypeOf(error.data.tag).toEqualTypeOf<"VersionConflict">()
      expectTypeOf(error.data.details).toEqualTypeOf<
        | {
            readonly id: string
            readonly expectedVersion: number
            readonly currentVersion: number
          }
        | undefined
      >()
      expectTypeOf(error.data.httpStatus).toEqualTypeOf<number>()
      expectTypeOf(error.message).toEqualTypeOf<string>()
      // @ts-expect-error: a VersionConflict names no account
      typeOnly(() => error.data.details?.accountId)
    }
    if (isTxnError(error, "InsufficientFunds")) {
      expectTypeOf(error.data.details?.available).toEqualTypeOf<number | undefined>()
      expectTypeOf(error.data.details?.failures).toEqualTypeOf<
        ReadonlyArray<ItemFailure> | undefined
      >()
    }
    if (isTxnError(error, "RateLimited")) {
      expectTypeOf(error.data.details?.retryAfterSeconds).toEqualTypeOf<number | undefined>()
    }
    if (isTxnError(error, "ValidationError")) {
      expectTypeOf(error.data.issues).toEqualTypeOf<ReadonlyArray<FieldIssue> | undefined>()
      expectTypeOf(error.data.details).toEqualTypeOf<undefined>()
    }
    if (isTxnError(error, "InternalError")) {
      expectTypeOf(error.data.details).toEqualTypeOf<undefined>()
      expectTypeOf(error.data.requestId).toEqualTypeOf<string | undefined>()
    }
    // @ts-expect-error: not a tag the API uses
    typeOnly(() => isTxnError(error, "VersionConflicted"))
    // @ts-expect-error: tags are the API's, not any string
    typeOnly(() => isTxnError(error, "NotFound" as string))
  })

  it("has a guard for every tag the API answers with", () => {
    expectTypeOf<TxnErrorTag>().toEqualTypeOf<
      | "ValidationError"
      | "Unauthorized"
      | "Forbidden"
      | "NotFound"
      | "VersionConflict"
      | "InvalidStateTransition"
      | "IdempotencyKeyReused"
      | "InsufficientFunds"
      | "BalanceLimitExceeded"
      | "CurrencyMismatch"
      | "PayloadTooLarge"
      | "MethodNotAllowed"
      | "RateLimited"
      | "Unavailable"
      | "InternalError"
    >()
    expectTypeOf<keyof ErrorDetails>().toEqualTypeOf<
      Exclude<TxnErrorTag, "ValidationError" | "InternalError">
    >()
  })

  it("types a ValidationError's issues", () => {
    expectTypeOf<NonNullable<ErrorData["issues"]>[number]>().toEqualTypeOf<{
      readonly path: ReadonlyArray<string | number>
      readonly message: string
    }>()
    expectTypeOf<ErrorData["requestId"]>().toEqualTypeOf<string | undefined>()
  })
})

describe("options", () => {
  it("takes headers as an object or a function, sync or async", () => {
    expectTypeOf<{ url: string; headers: { authorization: string } }>().toExtend<TxnClientOptions>()
    expectTypeOf<{
      url: string
      headers: () => Promise<Record<string, string>>
    }>().toExtend<TxnClientOptions>()
    expectTypeOf<{ url: string; batch: "yes" }>().not.toExtend<TxnClientOptions>()
    expectTypeOf<{ headers: Record<string, string> }>().not.toExtend<TxnClientOptions>()
  })

  it("takes a token, or a function that fetches one, sync or async", () => {
    expectTypeOf<{ url: string; token: string }>().toExtend<TxnClientOptions>()
    expectTypeOf<{ url: string; token: () => string }>().toExtend<TxnClientOptions>()
    expectTypeOf<{ url: string; token: () => Promise<string> }>().toExtend<TxnClientOptions>()
    expectTypeOf<{ url: string; token: () => number }>().not.toExtend<TxnClientOptions>()
  })

  it("takes retry settings or false, and an AbortSignal per call", () => {
    expectTypeOf<{ url: string; retry: false }>().toExtend<TxnClientOptions>()
    expectTypeOf<{ url: string; retry: { retries: 5 } }>().toExtend<TxnClientOptions>()
    expectTypeOf<{ url: string; retry: true }>().not.toExtend<TxnClientOptions>()
    const signal = new AbortController().signal
    typeOnly(() => client.transactions.get.query({ id: "t" }, { signal }))
    typeOnly(() => client.transactions.create.mutate(debit, { signal }))
  })
})
