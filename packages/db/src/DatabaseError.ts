import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as SqlClient from "effect/sql/SqlClient"
import * as SqlError from "effect/sql/SqlError"

/** SQLSTATEs after which PostgreSQL has rolled the whole transaction back and running it again is safe. */
const conflictStates = new Set(["40P01", "40001"])

/**
 * A statement PostgreSQL refused or could not run, with its SQLSTATE (and the constraint it broke,
 * if any). `retryable` is true for a deadlock (40P01) or a serialization failure (40001): the
 * database rolled the whole transaction back, so running it again from the start is safe and
 * may well succeed.
 */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String,
  sqlState: Schema.NullOr(Schema.String),
  constraint: Schema.NullOr(Schema.String),
  table: Schema.NullOr(Schema.String),
  retryable: Schema.Boolean,
  cause: Schema.Defect(),
}) {
  static fromSqlError(error: SqlError.SqlError): DatabaseError {
    const fields = error.reason.cause as
      | { readonly code?: unknown; readonly constraint?: unknown; readonly table?: unknown }
      | undefined
    const text = (value: unknown) => (typeof value === "string" ? value : null)
    const sqlState = text(fields?.code)
    return new DatabaseError({
      message: error.message,
      sqlState,
      constraint: text(fields?.constraint),
      table: text(fields?.table),
      retryable: sqlState !== null && conflictStates.has(sqlState),
      cause: error,
    })
  }
}

/** The statement's SqlError as a DatabaseError; other failures pass through. */
export const typed = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError, R> =>
  Effect.mapError(effect, (error) =>
    SqlError.isSqlError(error) ? DatabaseError.fromSqlError(error) : error,
  ) as Effect.Effect<A, Exclude<E, SqlError.SqlError> | DatabaseError, R>

const isConflict = (value: unknown) => value instanceof DatabaseError && value.retryable

/** A conflict anywhere in the cause: as a failure, or as a defect from a port further in. */
const hasConflict = <E>(cause: Cause.Cause<E>) =>
  cause.reasons.some(
    (reason) =>
      (Cause.isFailReason(reason) && isConflict(reason.error)) ||
      (Cause.isDieReason(reason) && isConflict(reason.defect)),
  )

/** How many times a transaction is run again after a deadlock or serialization failure. */
export const conflictRetries = 3

/**
 * The one retry policy of the database layer: runs `effect` (a whole database transaction, or a
 * statement that is one) again, up to `conflictRetries` more times, when PostgreSQL aborted it for
 * a deadlock or a serialization failure. Whoever calls a repository never sees these; whatever
 * still fails after the retries stays as it is.
 */
export const retryingConflicts = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  retries = conflictRetries,
): Effect.Effect<A, E, R> =>
  Effect.catchCause(effect, (cause) =>
    retries > 0 && hasConflict(cause)
      ? retryingConflicts(effect, retries - 1)
      : Effect.failCause(cause),
  )

/**
 * Retries conflicts only where `effect` is the whole database transaction: inside another one the
 * database has already rolled all of it back, so only the outermost level can run it again.
 */
export const retryingWhenOutermost =
  (sql: SqlClient.SqlClient) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.serviceOption(sql.transactionService), (open) =>
      Option.isSome(open) ? effect : retryingConflicts(effect),
    )

/** The port boundary: a database error still failing after the retries becomes a defect. */
export const orDieOnDatabaseError = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, Exclude<E, DatabaseError>, R> =>
  Effect.catchIf(
    effect,
    (error): error is Extract<E, DatabaseError> => error instanceof DatabaseError,
    (error) => Effect.die(error),
  ) as Effect.Effect<A, Exclude<E, DatabaseError>, R>

/**
 * What a repository method does with its SQL: failures typed as DatabaseError, conflicts retried
 * where the method is the whole transaction, and what still fails a defect at the port.
 */
export const atPort =
  (sql: SqlClient.SqlClient) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    orDieOnDatabaseError(retryingWhenOutermost(sql)(typed(effect)))

/**
 * `effect` in a database transaction of its own (a savepoint inside an enclosing one), run again
 * on a conflict when it is the outermost, with the port boundary's handling of what still fails.
 */
export const transactionAtPort =
  (sql: SqlClient.SqlClient) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    atPort(sql)(sql.withTransaction(effect))
