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
