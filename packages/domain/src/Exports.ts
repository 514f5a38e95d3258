import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { type Forbidden, type IdempotencyKeyReused, NotFound } from "./Errors.ts"
import type { CreateExport, Export, GetExport } from "./Export.ts"
import { ExportRepository } from "./ExportRepository.ts"
import { ensureAllAccounts } from "./Grant.ts"
import { IdempotencyStore, idempotent, type MaybeReplayed } from "./Idempotency.ts"
import { type ExportId, newExportId, type UserId } from "./Ids.ts"

/**
 * CSV export use cases, on behalf of one user. The file itself is written by the worker. A client
 * token limited to some accounts may not export (an export spans the user's accounts, and its
 * file outlives the token).
 */
export class Exports extends Context.Service<
  Exports,
  {
    /** Records a queued export; the worker builds it once its `export.created` event is relayed. */
    readonly create: (
      userId: UserId,
      input: CreateExport,
    ) => Effect.Effect<MaybeReplayed<Export>, IdempotencyKeyReused | Forbidden>
    readonly get: (userId: UserId, input: GetExport) => Effect.Effect<Export, NotFound | Forbidden>
    /** The export if its file can be downloaded now: completed and not expired. */
    readonly download: (
      userId: UserId,
      input: GetExport,
    ) => Effect.Effect<Export, NotFound | Forbidden>
    /** Part `seq` of the file, in order from 0; none past the last one. */
    readonly readChunk: (
      userId: UserId,
      id: ExportId,
      seq: number,
    ) => Effect.Effect<Option.Option<Uint8Array>>
  }
>()("@txn/domain/Exports") {
  static readonly layer = Layer.effect(
    Exports,
    Effect.gen(function* () {
      const exports = yield* ExportRepository
      const idempotency = yield* IdempotencyStore

      const get = Effect.fn("Exports.get")(function* (userId: UserId, input: GetExport) {
        yield* ensureAllAccounts("read exports")
        const found = yield* exports.findById(userId, input.id, new Date())
        if (Option.isNone(found)) return yield* NotFound.of("export", input.id)
        return found.value
      })

      return Exports.of({
        create: Effect.fn("Exports.create")(function* (userId, input) {
          yield* ensureAllAccounts("export transactions")
          const { idempotencyKey: _, ...filters } = input
          return yield* idempotent(
            idempotency,
            userId,
            "exports.create",
            input,
            exports.insert(userId, newExportId(), filters, new Date()),
          )
        }),
        get,
        download: Effect.fn("Exports.download")(function* (userId, input) {
          const found = yield* get(userId, input)
          if (found.status !== "completed") {
            // The caller's own export: saying it exists but is not ready tells nobody else anything.
            return yield* new NotFound({
              message: `Export ${input.id} is ${found.status}, not completed; download it once exports.get shows a downloadUrl`,
              resource: "export",
              id: input.id,
            })
          }
          return found
        }),
        readChunk: Effect.fn("Exports.readChunk")(function* (userId, id, seq) {
          return yield* exports.readChunk(userId, id, seq)
        }),
      })
    }),
  )
}
