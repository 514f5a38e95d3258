import { PgApiKeyRepository, PgDatabase, PgUserRepository } from "@txn/db"
import { Access, CredentialCache } from "@txn/domain"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"

/**
 * Users and API keys alone (`Access` with its repositories and the SqlClient, so migrations can run
 * on it too), for the CLI and the launcher: they manage keys and need no queue or request log,
 * nor a cache of keys (a revocation here reaches the API processes through the database).
 */
export const makeAccessLayer = (options: {
  readonly databaseUrl: Redacted.Redacted<string>
  readonly maxConnections?: number
  /** Set when `databaseUrl` is a pooler in transaction mode: statements are then not prepared. */
  readonly databaseDirectUrl?: Redacted.Redacted<string> | undefined
}) =>
  Access.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(PgUserRepository.layer, PgApiKeyRepository.layer, CredentialCache.layerNone),
    ),
    Layer.provideMerge(
      PgDatabase.layer({
        url: options.databaseUrl,
        maxConnections: options.maxConnections ?? 2,
        prepare: options.databaseDirectUrl === undefined,
      }),
    ),
    // A database that cannot be reached is fatal, not a domain error.
    Layer.orDie,
  )
