import { type User, type UserId, UserRepository } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort } from "./DatabaseError.ts"
import { iso } from "./rows.ts"

export const layer = Layer.effect(
  UserRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    return UserRepository.of({
      ensure: (user) =>
        sql<{ readonly id: string; readonly name: string; readonly createdAt: Date }>`
          with inserted as (
            insert into users (id, name, created_at)
            values (${user.id}, ${user.name}, ${user.createdAt}::timestamptz)
            on conflict (id) do nothing
            returning id, name, created_at
          )
          select * from inserted
          union all
          select id, name, created_at from users where id = ${user.id}
          limit 1`.pipe(
          Effect.map(
            ([row]): User => ({
              id: row!.id as UserId,
              name: row!.name,
              createdAt: iso(row!.createdAt),
            }),
          ),
          port,
          Effect.withSpan("PgUserRepository.ensure"),
        ),
      findById: (id) =>
        sql<{ readonly id: string; readonly name: string; readonly createdAt: Date }>`
          select id, name, created_at from users where id = ${id}`.pipe(
          Effect.map(([row]) =>
            Option.fromNullishOr(row).pipe(
              Option.map(
                (r): User => ({
                  id: r.id as UserId,
                  name: r.name,
                  createdAt: iso(r.createdAt),
                }),
              ),
            ),
          ),
          port,
          Effect.withSpan("PgUserRepository.findById"),
        ),
    })
  }),
)
