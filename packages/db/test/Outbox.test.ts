import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as PgOutbox from "../src/PgOutbox.ts"
import { createUser, makeRuntime, type TestRuntime } from "./fixtures.ts"

let runtime: TestRuntime
beforeAll(() => {
  runtime = makeRuntime()
})
afterAll(() => runtime.dispose())

const eventId = () => `evt_${randomBytes(13).toString("hex")}`

describe("the outbox relay's claim", () => {
  it("takes events oldest first by sequence number as a number, across powers of ten", async () => {
    const userId = await runtime.runPromise(createUser)
    // Inserted in a transaction that is rolled back, so no relay anywhere ever sees them. As text,
    // '1000000000000' would sort before '999999999999' and before every smaller number.
    const claimed = await runtime.runPromise(
      SqlClient.SqlClient.use((sql) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              for (const seq of [1_000_000_000_000, 999_999_999_999]) {
                yield* sql`
                  insert into outbox (seq, id, user_id, type, data, created_at)
                  overriding system value
                  values (${seq}, ${eventId()}, ${userId}, 'account.created', '{}'::jsonb, now())`
              }
              const events = yield* PgOutbox.claimForRelay(100_000, 3_600_000)
              return yield* Effect.fail({ rolledBack: events.map((event) => Number(event.seq)) })
            }),
          )
          .pipe(
            Effect.flip,
            Effect.map((outcome) => ("rolledBack" in outcome ? outcome.rolledBack : [])),
            Effect.orDie,
          ),
      ),
    )
    expect(claimed.slice(-2)).toEqual([999_999_999_999, 1_000_000_000_000])
    expect(claimed).toEqual([...claimed].sort((a, b) => a - b))
  })
})
