/**
 * The plain baseline the throughput benchmark holds the API against: a minimal hand-written
 * endpoint, Fastify and `pg`, on its own simple tables (schema `plain`: no API keys, idempotency,
 * history, outbox or ledger). It validates bodies with JSON Schema (Fastify's Ajv) and per create
 * runs BEGIN; UPDATE the balance (refused if it would go below zero); INSERT the row; COMMIT.
 *
 *   POST /transactions  {"accountId","direction","amount","currency","description"?} -> the row
 *   GET  /transactions?accountId=acc_…&limit=50 -> {"items", "nextCursor"}, newest first
 *   GET  /readyz
 *
 * `DATABASE_URL=postgres://… node scripts/bench/plain.ts --port 3100 [--pool 10]`, on 127.0.0.1;
 * the tables must exist (`plainSchema`, which the benchmark creates). It reads no other setting,
 * and not through the project's config module, so that it loads nothing but Fastify and pg.
 */
import { randomBytes } from "node:crypto"
import { parseArgs } from "node:util"
import Fastify from "fastify"
import pg from "pg"

/** The baseline's tables, with the one index its list needs. */
export const plainSchema = [
  "create schema plain",
  `create table plain.accounts (
     id text primary key,
     currency text not null,
     balance bigint not null,
     allow_negative boolean not null default false
   )`,
  `create table plain.transactions (
     id text primary key,
     account_id text not null references plain.accounts (id),
     direction text not null check (direction in ('credit', 'debit')),
     amount bigint not null check (amount > 0),
     currency text not null,
     description text,
     occurred_at timestamptz not null,
     created_at timestamptz not null
   )`,
  "create index on plain.transactions (account_id, occurred_at desc, id desc)",
]

const createBody = {
  type: "object",
  required: ["accountId", "direction", "amount", "currency"],
  additionalProperties: false,
  properties: {
    accountId: { type: "string", pattern: "^acc_[0-9a-z]{26}$" },
    direction: { enum: ["credit", "debit"] },
    amount: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    description: { type: "string", maxLength: 1000 },
  },
} as const

const listQuery = {
  type: "object",
  required: ["accountId"],
  additionalProperties: false,
  properties: {
    accountId: { type: "string", pattern: "^acc_[0-9a-z]{26}$" },
    limit: { type: "integer", minimum: 1, maximum: 200, default: 50 },
  },
} as const

interface CreateBody {
  readonly accountId: string
  readonly direction: "credit" | "debit"
  readonly amount: number
  readonly currency: string
  readonly description?: string
}

interface Row {
  readonly id: string
  readonly account_id: string
  readonly direction: string
  readonly amount: string
  readonly currency: string
  readonly description: string | null
  readonly occurred_at: Date
  readonly created_at: Date
}

const columns = "id, account_id, direction, amount, currency, description, occurred_at, created_at"

/**
 * The endpoint's statements, which the benchmark's raw SQL load runs too. `update`: $1 account,
 * $2 the signed amount, $3 currency; `insert`: id, account, direction, amount, currency,
 * description; `list`: account, limit.
 */
export const plainStatements = {
  update: `update plain.accounts set balance = balance + $2
            where id = $1 and currency = $3 and (allow_negative or balance + $2 >= 0)`,
  insert: `insert into plain.transactions (${columns})
           values ($1, $2, $3, $4, $5, $6, now(), now())
           returning ${columns}`,
  list: `select ${columns} from plain.transactions where account_id = $1
          order by occurred_at desc, id desc limit $2`,
}

const toJson = (row: Row) => ({
  id: row.id,
  accountId: row.account_id,
  direction: row.direction,
  amount: Number(row.amount),
  currency: row.currency,
  description: row.description,
  occurredAt: row.occurred_at.toISOString(),
  createdAt: row.created_at.toISOString(),
})

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
export const newId = () =>
  `txn_${Array.from(randomBytes(26), (byte) => idAlphabet[byte % idAlphabet.length]).join("")}`

/** Starts the endpoint on HOST:PORT; SIGTERM or SIGINT stop it. */
const serve = async () => {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      pool: { type: "string", default: "10" },
    },
    strict: true,
  })
  if (process.env.DATABASE_URL === undefined || values.port === undefined)
    throw new Error("DATABASE_URL and --port are required")
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(values.pool),
    // Kept open between the benchmark's rounds, as the API's pool keeps its connections.
    idleTimeoutMillis: 600_000,
  })
  const app = Fastify({ logger: false })

  app.get("/readyz", async () => {
    await pool.query("select 1")
    return { ok: true }
  })

  app.post<{ Body: CreateBody }>(
    "/transactions",
    { schema: { body: createBody } },
    async (request, reply) => {
      const body = request.body
      const delta = body.direction === "credit" ? body.amount : -body.amount
      const client = await pool.connect()
      try {
        await client.query("begin")
        const updated = await client.query(plainStatements.update, [
          body.accountId,
          delta,
          body.currency,
        ])
        if (updated.rowCount === 0) {
          await client.query("rollback")
          return reply.code(422).send({
            error: `Account ${body.accountId} is unknown, in another currency, or lacks the funds`,
          })
        }
        const inserted = await client.query<Row>(plainStatements.insert, [
          newId(),
          body.accountId,
          body.direction,
          body.amount,
          body.currency,
          body.description,
        ])
        await client.query("commit")
        return toJson(inserted.rows[0]!)
      } catch (error) {
        await client.query("rollback").catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
  )

  app.get<{ Querystring: { accountId: string; limit: number } }>(
    "/transactions",
    { schema: { querystring: listQuery } },
    async (request) => {
      const { accountId, limit } = request.query
      const { rows } = await pool.query<Row>(plainStatements.list, [accountId, limit + 1])
      const items = rows.slice(0, limit).map(toJson)
      const last = items.at(-1)
      return {
        items,
        nextCursor:
          rows.length > limit && last !== undefined
            ? Buffer.from(JSON.stringify({ at: last.occurredAt, id: last.id })).toString(
                "base64url",
              )
            : null,
      }
    },
  )
  await app.listen({ host: "127.0.0.1", port: Number(values.port) })
  const stop = async () => {
    await app.close()
    await pool.end()
    process.exit(0)
  }
  process.once("SIGTERM", () => void stop())
  process.once("SIGINT", () => void stop())
}

if (import.meta.main) await serve()
