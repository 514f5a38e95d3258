import * as Schema from "effect/Schema"
import { Timestamp } from "./Common.ts"
import { UserId } from "./Ids.ts"

export const User = Schema.Struct({
  id: UserId,
  name: Schema.String,
  createdAt: Timestamp,
})
export type User = typeof User.Type
