import { type AccountId, ChangeFeed, type UserId } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort } from "./DatabaseError.ts"
import { type EventRow, toEvent } from "./transactions/read.ts"

interface EntryRow extends EventRow {
  readonly xid: string
  readonly userId: string
  readonly accountId: string
}

/**
 * The change feed across users, read as `transactions.changes` reads one user's: in (xid, seq)
 * order, only below the oldest database transaction still running, so no entry can later commit
 * before a position already handed out.
 */
export const layer = Layer.effect(
  ChangeFeed,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    return ChangeFeed.of({
      head: sql<{ readonly xid: string; readonly seq: string }>`
        select xid::text as xid, seq::text as seq from transaction_events
         where xid < pg_snapshot_xmin(pg_current_snapshot())
         order by xid desc, seq desc
         limit 1`.pipe(
        Effect.map(([row]) =>
          row === undefined ? undefined : { xid: row.xid, seq: Number(row.seq) },
        ),
        port,
      ),

      after: Effect.fn("ChangeFeed.after")(function* (query) {
        const { position } = query
        // Ids are a prefix and base-36 digits: safe as the items of an array literal.
        const rows = yield* sql<EntryRow>`
          select e.xid::text as xid, e.seq::text as seq, e.user_id, t.account_id,
                 e.transaction_id, e.version, e.kind, e.actor, e.changes, e.at
            from transaction_events e join transactions t on t.id = e.transaction_id
           where e.user_id = any(${`{${query.userIds.join(",")}}`}::text[])
             and e.xid < pg_snapshot_xmin(pg_current_snapshot())
             ${position === undefined ? sql`` : sql`and (e.xid, e.seq) > (${position.xid}::xid8, ${position.seq})`}
             ${query.accountIds === undefined ? sql`` : sql`and t.account_id = any(${`{${query.accountIds.join(",")}}`}::text[])`}
           order by e.xid, e.seq
           limit ${query.limit}`
        return rows.map((row) => ({
          position: { xid: row.xid, seq: Number(row.seq) },
          userId: row.userId as UserId,
          change: { ...toEvent(row), accountId: row.accountId as AccountId },
        }))
      }, port),
    })
  }),
)
