import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { migrate } from "./Migrations.ts"
import * as PgDatabase from "./PgDatabase.ts"

/** Creates the database on the server at `adminUrl` unless it exists. */
export const createDatabase = async (adminUrl: string, database: string) => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const found = await client.query("select 1 from pg_database where datname = $1", [database])
    if (found.rowCount === 0)
      await client.query(`create database "${database.replace(/"/g, '""')}"`)
  } finally {
    await client.end()
  }
}

/** Drops the database, closing its connections first. */
export const dropDatabase = async (adminUrl: string, database: string) => {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(`drop database if exists "${database.replace(/"/g, '""')}" with (force)`)
  } finally {
    await client.end()
  }
}

/**
 * A migrated database of its own, named `label` and a random suffix after the database of
 * `serverUrl`, on the same server; `drop` removes it.
 */
export const createMigratedDatabase = async (
  serverUrl: Redacted.Redacted<string>,
  label: string,
) => {
  const server = new URL(Redacted.value(serverUrl))
  const name = `${server.pathname.slice(1)}_${label}_${randomBytes(4).toString("hex")}`
  await createDatabase(server.href, name)
  const own = new URL(server.href)
  own.pathname = `/${name}`
  const url = Redacted.make(own.href)
  await Effect.runPromise(
    migrate.pipe(Effect.provide(PgDatabase.layer({ url, maxConnections: 1 }))),
  )
  return { url, drop: () => dropDatabase(server.href, name) }
}
