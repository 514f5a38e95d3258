import { type IdempotencyRecord, type Transaction, TransactionRepository } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "../DatabaseError.ts"
import { groupCommit } from "./groupCommit.ts"
import { lifecycle } from "./lifecycle.ts"
import { type ReadOptions, reads } from "./read.ts"
import { createTransaction, insertMany } from "./write.ts"

export { columns, listConditions, listStatement, TransactionRow, toTransaction } from "./rows.ts"

/** Transactions in PostgreSQL: their creates, their later changes and their reads. */
export const layerWith = (options: ReadOptions) =>
  Layer.effect(
    TransactionRepository,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const port = atPort(sql)
      const grouped = groupCommit(sql)
      return TransactionRepository.of({
        create: Effect.fn("TransactionsDb.create")(function* (
          t: Transaction,
          key?: IdempotencyRecord,
        ) {
          // Inside a database transaction the create is part of it; on its own it joins a group.
          const open = yield* Effect.serviceOption(sql.transactionService)
          if (Option.isSome(open)) return yield* port(createTransaction(sql, t, key))
          return yield* grouped(t, key)
        }),

        insert: Effect.fn("TransactionsDb.insert")(function* (t: Transaction) {
          const written = yield* createTransaction(sql, t, undefined)
          if (Option.isSome(written)) return written.value
          return yield* Effect.die(
            new Error(`Account ${t.accountId} of ${t.userId} in ${t.currency} is missing`),
          )
        }, port),

        insertMany: Effect.fn("TransactionsDb.insertMany")(function* (
          batch: ReadonlyArray<Transaction>,
        ) {
          return yield* insertMany(sql, batch)
        }, transactionAtPort(sql)),

        ...lifecycle(sql),
        ...reads(sql, options),
      })
    }),
  )

/** Without a summary cache. */
export const layer = layerWith({ summaryCacheMax: 0 })
