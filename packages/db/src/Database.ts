import type { AppConfig } from "@txn/config"
import type { EmbeddedDatabase } from "./EmbeddedPostgres.ts"

/**
 * `DATABASE_URL` when set, otherwise the embedded PostgreSQL (started if not yet running). The
 * embedded server is loaded only when needed, so images that always set DATABASE_URL omit it.
 */
export const connectDatabase = async (config: AppConfig): Promise<EmbeddedDatabase> => {
  if (config.databaseUrl !== undefined) return { url: config.databaseUrl, stop: async () => {} }
  const { startEmbeddedPostgres } = await import("./EmbeddedPostgres.ts")
  return startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort })
}

/**
 * `connectDatabase` for a command's entry point: when the embedded PostgreSQL cannot be used (its
 * port taken by another server, say) it prints why and exits 1, rather than a stack trace.
 */
export const connectDatabaseOrExit = async (config: AppConfig): Promise<EmbeddedDatabase> => {
  try {
    return await connectDatabase(config)
  } catch (error) {
    if (!(error instanceof Error && error.name === "EmbeddedPostgresError")) throw error
    console.error(error.message)
    return process.exit(1)
  }
}
