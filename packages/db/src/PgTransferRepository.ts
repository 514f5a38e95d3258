import {
  type AccountId,
  Actor,
  type Currency,
  type TransactionId,
  type Transfer,
  type TransferId,
  TransferRepository,
  type UserId,
} from "@txn/domain"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { insertTransaction } from "./PgTransactionRepository.ts"
import { iso, toNumber } from "./rows.ts"

interface TransferRow {
  readonly id: string
  readonly userId: string
  readonly fromAccountId: string
  readonly toAccountId: string
  readonly amount: bigint
  readonly currency: string
  readonly description: string | null
  readonly debitTransactionId: string
  readonly creditTransactionId: string
  readonly createdAt: Date
}

const toTransfer = (row: TransferRow): Transfer => ({
  id: row.id as TransferId,
  userId: row.userId as UserId,
  fromAccountId: row.fromAccountId as AccountId,
  toAccountId: row.toAccountId as AccountId,
  amount: toNumber(row.amount),
  currency: row.currency as Currency,
  description: row.description,
  debitTransactionId: row.debitTransactionId as TransactionId,
  creditTransactionId: row.creditTransactionId as TransactionId,
  createdAt: iso(row.createdAt),
})

const columns = `id, user_id, from_account_id, to_account_id, amount, currency, description,
  debit_transaction_id, credit_transaction_id, created_at`

export const layer = Layer.effect(
  TransferRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const cols = sql.literal(columns)
    return TransferRepository.of({
      insert: (transfer, debit, credit) =>
        Effect.gen(function* () {
          const actor = yield* Actor
          // Both accounts locked in id order, so two opposite transfers cannot deadlock.
          yield* sql`
            select id from accounts
             where id in (${transfer.fromAccountId}, ${transfer.toAccountId})
             order by id for update`
          yield* insertTransaction(sql, debit, actor)
          yield* insertTransaction(sql, credit, actor)
          const [row] = yield* sql<TransferRow>`
            insert into transfers (${cols})
            values (${transfer.id}, ${transfer.userId}, ${transfer.fromAccountId},
                    ${transfer.toAccountId}, ${transfer.amount}, ${transfer.currency},
                    ${transfer.description}, ${transfer.debitTransactionId},
                    ${transfer.creditTransactionId}, ${transfer.createdAt})
            returning ${cols}`
          return toTransfer(row!)
        }).pipe(
          sql.withTransaction,
          Effect.catchTag("SqlError", Effect.die),
          Effect.withSpan("PgTransferRepository.insert"),
        ),

      findById: (userId, id) =>
        sql<TransferRow>`select ${cols} from transfers where id = ${id} and user_id = ${userId}`.pipe(
          Effect.map(([row]) => Option.fromNullishOr(row).pipe(Option.map(toTransfer))),
          Effect.orDie,
          Effect.withSpan("PgTransferRepository.findById"),
        ),
    })
  }),
)
