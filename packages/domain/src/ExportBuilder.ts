import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { ExportId } from "./Ids.ts"

export interface BuildOptions {
  /** Rows read per query; default 1,000. */
  readonly batchSize?: number
  /** A chunk is committed once this many bytes are buffered; default 1 MiB. */
  readonly chunkBytes?: number
}

export type BuildOutcome =
  /** Built now (or finished now, after an earlier attempt wrote some chunks). */
  | {
      readonly _tag: "Completed"
      readonly rows: number
      readonly bytes: number
      readonly chunks: number
    }
  /** No such export (deleted, or expired and purged). */
  | { readonly _tag: "Missing" }
  /** Already completed or failed before this build started. */
  | { readonly _tag: "AlreadyFinished"; readonly status: "completed" | "failed" }
  /** Another build advanced it, or it was marked failed, while this one ran; this one stopped. */
  | { readonly _tag: "Superseded" }
  /** It can never be built; it is now marked failed with this message. */
  | { readonly _tag: "Failed"; readonly error: string }

/** Writes exports' CSV files, resuming a build that died after its last committed chunk. */
export class ExportBuilder extends Context.Service<
  ExportBuilder,
  {
    readonly build: (exportId: ExportId, options?: BuildOptions) => Effect.Effect<BuildOutcome>
    /**
     * Marks the export failed with `message` (shown to its owner), unless it already finished;
     * true when it did so.
     */
    readonly markFailed: (exportId: ExportId, message: string) => Effect.Effect<boolean>
  }
>()("@txn/domain/ExportBuilder") {}
