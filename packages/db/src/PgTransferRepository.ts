import {
  AccountId,
  Currency,
  type Transaction,
  TransactionId,
  type Transfer,
  TransferId,
  TransferRepository,
  UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "./DatabaseError.ts"
import { rowCodec } from "./rows.ts"
import { insertTransaction } from "./transactions/write.ts"

/** A `transfers` row as the driver returns it, under the domain's field names (see `rowCodec`). */
export const TransferRow = Schema.Struct({
  id: TransferId,
  userId: UserId,
  fromAccountId: AccountId,
  toAccountId: AccountId,
  amount: Schema.BigInt,
  currency: Currency,
  description: Schema.NullOr(Schema.String),
  debitTransactionId: TransactionId,
  creditTransactionId: TransactionId,
  createdAt: Schema.Date,
})
type TransferRow = typeof TransferRow.Type

const codec = rowCodec(TransferRow)

/** A decoded row is a Transfer, field for field; this fails to compile if the two drift. */
const toTransfer = (row: TransferRow): Transfer => codec.decode(row) satisfies Transfer

export const columns = codec.columns

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
