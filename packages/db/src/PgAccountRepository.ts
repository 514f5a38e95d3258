import {
  type Account,
  AccountId,
  AccountRepository,
  availableOf,
  balanceFigures,
  Currency,
  decodeCursor,
  defaultLimit,
  InsufficientFunds,
  Metadata,
  UserId,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort, transactionAtPort } from "./DatabaseError.ts"
import { pageOf, rowCodec } from "./rows.ts"

/** An `accounts` row as the driver returns it, under the domain's field names (see `rowCodec`). */
export const AccountRow = Schema.Struct({
  id: AccountId,
  userId: UserId,
  name: Schema.String,
  currency: Currency,
  allowNegative: Schema.Boolean,
  metadata: Metadata,
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
})
type AccountRow = typeof AccountRow.Type

const codec = rowCodec(AccountRow)

/** A decoded row is an Account, field for field; this fails to compile if the two drift. */
const toAccount = (row: AccountRow): Account => codec.decode(row) satisfies Account

/** The stored balance components (bigint, or numeric for sums), sent as text: exact. */
interface BalanceRow {
  readonly id: string
  readonly currency: string
  readonly posted: string
  readonly pendingCredits: string
  readonly pendingDebits: string
}

export const columns = codec.columns

export const layer = Layer.effect(
  AccountRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    const cols = sql.literal(columns)

    return AccountRepository.of({
      insert: (account) =>
        sql<AccountRow>`
          insert into accounts (${cols})
          values (${account.id}, ${account.userId}, ${account.name}, ${account.currency},
                  ${account.allowNegative}, ${JSON.stringify(account.metadata)}::jsonb,
                  ${account.createdAt}, ${account.updatedAt})
          returning ${cols}`.pipe(
          Effect.map((rows) => toAccount(rows[0]!)),
          port,
          Effect.withSpan("PgAccountRepository.insert"),
        ),

      update: (userId, input, now) =>
        Effect.gen(function* () {
          const [current] = yield* sql<{ readonly posted: bigint; readonly pendingDebits: bigint }>`
            select posted_balance as posted, pending_debits from accounts
             where id = ${input.id} and user_id = ${userId}
             for update`
          if (current === undefined) return Option.none()
          // Within ±2^53-1 by the table's checks, so an exact number.
          const available = Number(availableOf(current))
          if (input.allowNegative === false && available < 0) {
            return yield* new InsufficientFunds({
              message: `Account ${input.id} has ${available} available; it must allow negative balances`,
              accountId: input.id,
              available,
              requested: 0,
            })
          }
          const sets = [
            ...(input.name === undefined ? [] : [sql`name = ${input.name}`]),
            ...(input.allowNegative === undefined
              ? []
              : [sql`allow_negative = ${input.allowNegative}`]),
            ...(input.metadata === undefined
              ? []
              : [sql`metadata = ${JSON.stringify(input.metadata)}::jsonb`]),
            sql`updated_at = ${now.toISOString()}::timestamptz`,
          ]
          const [row] = yield* sql<AccountRow>`
            update accounts set ${sql.join(", ", false)(sets)}
             where id = ${input.id} and user_id = ${userId}
            returning ${cols}`
          return Option.fromNullishOr(row).pipe(Option.map(toAccount))
        }).pipe(transactionAtPort(sql), Effect.withSpan("PgAccountRepository.update")),

      balance: (userId, id, asOf) =>
        Effect.gen(function* () {
          const [row] =
            asOf === undefined
              ? yield* sql<BalanceRow>`
                  select id, currency, posted_balance::text as posted,
                         pending_credits::text as pending_credits,
                         pending_debits::text as pending_debits
                    from accounts where id = ${id} and user_id = ${userId}`
              : yield* sql<BalanceRow>`
                  select id, currency, posted::text as posted,
                         pending_credits::text as pending_credits,
                         pending_debits::text as pending_debits
                    from (
                      select a.id, a.currency,
                             coalesce(sum(e.posted_delta), 0) as posted,
                             coalesce(sum(e.pending_credits_delta), 0) as pending_credits,
                             coalesce(sum(e.pending_debits_delta), 0) as pending_debits
                        from accounts a
                        left join ledger_entries e
                          on e.account_id = a.id and e.recorded_at <= ${asOf.toISOString()}::timestamptz
                       where a.id = ${id} and a.user_id = ${userId}
                       group by a.id, a.currency
                    ) sums`
          if (row === undefined) return Option.none()
          return Option.some({
            accountId: row.id as AccountId,
            currency: row.currency as Currency,
            ...balanceFigures({
              posted: BigInt(row.posted),
              pendingCredits: BigInt(row.pendingCredits),
              pendingDebits: BigInt(row.pendingDebits),
            }),
            asOf: asOf === undefined ? null : asOf.toISOString(),
          })
        }).pipe(port, Effect.withSpan("PgAccountRepository.balance")),

      findById: (userId, id) =>
        sql<AccountRow>`select ${cols} from accounts where id = ${id} and user_id = ${userId}`.pipe(
          Effect.map((rows) => Option.fromNullishOr(rows[0]).pipe(Option.map(toAccount))),
          port,
          Effect.withSpan("PgAccountRepository.findById"),
        ),

      findMany: (userId, ids) =>
        ids.length === 0
          ? Effect.succeed([])
          : sql<AccountRow>`
              select ${cols} from accounts where id in ${sql.in(ids)} and user_id = ${userId}`.pipe(
              Effect.map((rows) => rows.map(toAccount)),
              port,
              Effect.withSpan("PgAccountRepository.findMany"),
            ),

      list: (userId, query, within) => {
        const limit = query.limit ?? defaultLimit
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
        const conditions = [
          sql`user_id = ${userId}`,
          ...(within == null ? [] : [sql`id = any(${`{${within.join(",")}}`}::text[])`]),
          ...(query.currency === undefined ? [] : [sql`currency = ${query.currency}`]),
          ...(after === undefined
            ? []
            : [sql`(created_at, id) < (${after.at}::timestamptz, ${after.id})`]),
        ]
        return sql<AccountRow>`
          select ${cols} from accounts where ${sql.and(conditions)}
          order by created_at desc, id desc
          limit ${limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows, limit, toAccount, (account) => account.createdAt)),
          port,
          Effect.withSpan("PgAccountRepository.list"),
        )
      },
    })
  }),
)
