import { Export, ExportRepository, exportRetentionDays } from "@txn/domain"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SqlClient from "effect/sql/SqlClient"
import { atPort } from "./DatabaseError.ts"

const fields = Object.keys(Export.fields) as ReadonlyArray<keyof Export>

/** The fields in the schema's order (jsonb keeps object keys in an order of its own). */
const toExport = (json: Export): Export =>
  Object.fromEntries(fields.map((field) => [field, json[field]])) as Export

/**
 * Exports are read as `txn_export_json(e)`, the SQL function their outbox events are made with,
 * so what `exports.get` answers and what a webhook receives are the same JSON by construction.
 */
export const layer = Layer.effect(
  ExportRepository,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const port = atPort(sql)
    return ExportRepository.of({
      insert: (userId, id, filters, now) =>
        sql<{ readonly export: Export }>`
          insert into exports (id, user_id, filters, created_at, expires_at)
          values (${id}, ${userId}, ${JSON.stringify(filters)}::jsonb,
                  ${now.toISOString()}::timestamptz,
                  ${now.toISOString()}::timestamptz + ${`${exportRetentionDays * 24} hours`}::interval)
          returning txn_export_json(exports) as export`.pipe(
          Effect.map(([row]) => toExport(row!.export)),
          port,
          Effect.withSpan("PgExportRepository.insert"),
        ),

      findById: (userId, id, now) =>
        sql<{ readonly export: Export }>`
          select txn_export_json(e) as export from exports e
           where id = ${id} and user_id = ${userId} and expires_at > ${now.toISOString()}::timestamptz`.pipe(
          Effect.map(([row]) =>
            Option.fromNullishOr(row).pipe(Option.map((r) => toExport(r.export))),
          ),
          port,
          Effect.withSpan("PgExportRepository.findById"),
        ),

      readChunk: (userId, id, seq) =>
        sql<{ readonly data: Uint8Array }>`
          select c.data from export_chunks c join exports e on e.id = c.export_id
           where c.export_id = ${id} and c.seq = ${seq}
             and e.user_id = ${userId} and e.status = 'completed'`.pipe(
          Effect.map(([row]) => Option.fromNullishOr(row).pipe(Option.map((r) => r.data))),
          port,
          Effect.withSpan("PgExportRepository.readChunk"),
        ),
    })
  }),
)
