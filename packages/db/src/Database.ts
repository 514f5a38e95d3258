import type { AppConfig } from "@txn/config"
import { type EmbeddedDatabase, startEmbeddedPostgres } from "./EmbeddedPostgres.ts"

/** `DATABASE_URL` when set, otherwise the embedded PostgreSQL (started if not yet running). */
export const connectDatabase = async (config: AppConfig): Promise<EmbeddedDatabase> =>
  config.databaseUrl === undefined
    ? startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort })
    : { url: config.databaseUrl, stop: async () => {} }
