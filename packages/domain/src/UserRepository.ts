import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { UserId } from "./Ids.ts"
import type { User } from "./User.ts"

/** Storage of users, the owners of every other record. */
export class UserRepository extends Context.Service<
  UserRepository,
  {
    /** Creates the user unless one with that id exists; returns the stored user. */
    readonly ensure: (user: User) => Effect.Effect<User>
    readonly findById: (id: UserId) => Effect.Effect<Option.Option<User>>
  }
>()("@txn/domain/UserRepository") {}
