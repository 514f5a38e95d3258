import pg from "pg"

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
