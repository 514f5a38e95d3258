import {
  type AccountId,
  type Currency,
  type Transaction,
  type TransactionId,
  type Transfer,
  type TransferId,
  TransferRepository,
  type UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "./DatabaseError.ts"
import { iso, toNumber } from "./rows.ts"
import { insertTransaction } from "./transactions/write.ts"

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
      insert: Effect.fn("TransfersDb.insert")(function* (
        transfer: Transfer,
        debit: Transaction,
        credit: Transaction,
      ) {
        // Both accounts locked in id order, so two opposite transfers cannot deadlock.
        yield* sql`
            select id from accounts
             where id in (${transfer.fromAccountId}, ${transfer.toAccountId})
             order by id for update`
        yield* insertTransaction(sql, debit)
        yield* insertTransaction(sql, credit)
        const [row] = yield* sql<TransferRow>`
            insert into transfers (${cols})
            values (${transfer.id}, ${transfer.userId}, ${transfer.fromAccountId},
                    ${transfer.toAccountId}, ${transfer.amount}, ${transfer.currency},
                    ${transfer.description}, ${transfer.debitTransactionId},
                    ${transfer.creditTransactionId}, ${transfer.createdAt})
            returning ${cols}`
        return toTransfer(row!)
      }, transactionAtPort(sql)),

      findById: Effect.fn("TransfersDb.findById")(function* (userId: UserId, id: TransferId) {
        const [row] = yield* sql<TransferRow>`
          select ${cols} from transfers where id = ${id} and user_id = ${userId}`
        return Option.fromNullishOr(row).pipe(Option.map(toTransfer))
      }, atPort(sql)),
    })
  }),
)
