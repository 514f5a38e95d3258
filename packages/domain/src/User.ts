import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Timestamp } from "./Common.ts"
import { UserId } from "./Ids.ts"

export const User = Schema.Struct({
  id: UserId,
  name: Schema.String,
  createdAt: Timestamp,
})
export type User = typeof User.Type

/** Storage of users, the owners of every other record. */
export class UserRepository extends Context.Service<
  UserRepository,
  {
    /** Creates the user unless one with that id exists; returns the stored user. */
    readonly ensure: (user: User) => Effect.Effect<User>
    readonly findById: (id: UserId) => Effect.Effect<Option.Option<User>>
  }
>()("@txn/domain/UserRepository") {}
