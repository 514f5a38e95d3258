import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { Export, ExportFilters } from "./Export.ts"
import type { ExportId, UserId } from "./Ids.ts"

/** Storage of exports and their files; every read is scoped to the owning user. */
export class ExportRepository extends Context.Service<
  ExportRepository,
  {
    /** Records a queued export (its `export.created` event with it), expiring after retention. */
    readonly insert: (
      userId: UserId,
      id: ExportId,
      filters: ExportFilters,
      now: Date,
    ) => Effect.Effect<Export>
    /** The export, unless it is another user's or has expired. */
    readonly findById: (
      userId: UserId,
      id: ExportId,
      now: Date,
    ) => Effect.Effect<Option.Option<Export>>
    /** Part `seq` (from 0) of a completed export's file; none past the last part. */
    readonly readChunk: (
      userId: UserId,
      id: ExportId,
      seq: number,
    ) => Effect.Effect<Option.Option<Uint8Array>>
  }
>()("@txn/domain/ExportRepository") {}
