import { loadConfigOrExit } from "@txn/config"
import { connectDatabase, migrate } from "@txn/db"
import { makeAccessLayer } from "@txn/platform"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import { parseCommand } from "./Command.ts"
import { execute } from "./execute.ts"

/**
 * Runs one command line and returns the exit code: 0 done, 1 not found or a failure (the database
 * unreachable, say), 2 invalid arguments. Arguments are checked before the database is touched.
 */
export const runCli = async (argv: ReadonlyArray<string>): Promise<number> => {
  const parsed = parseCommand(argv)
  if (parsed._tag === "Help") {
    process.stdout.write(parsed.text)
    return 0
  }
  if (parsed._tag === "Invalid") {
    process.stderr.write(`txn: ${parsed.message}\n`)
    return 2
  }

  const config = loadConfigOrExit()
  const database = await connectDatabase(config).catch((error: unknown) => {
    // The embedded PostgreSQL could not be used: its message says why and what to do.
    if (error instanceof Error && error.name === "EmbeddedPostgresError") return error.message
    throw error
  })
  if (typeof database === "string") {
    process.stderr.write(`txn: ${database}\n`)
    return 1
  }
  const runtime = ManagedRuntime.make(
    makeAccessLayer({
      databaseUrl: database.url,
      maxConnections: 1,
      databaseDirectUrl: config.databaseDirectUrl,
    }),
  )
  const exit = await runtime
    .runPromiseExit(
      Effect.gen(function* () {
        if (config.migrateOnStart) yield* migrate.pipe(Effect.orDie)
        return yield* execute(parsed.command)
      }),
    )
    .finally(async () => {
      await runtime.dispose()
      await database.stop()
    })

  if (Exit.isSuccess(exit)) {
    const { json, text } = exit.value
    process.stdout.write(`${parsed.json ? JSON.stringify(json, null, 2) : text}\n`)
    return 0
  }
  const failure = Cause.findErrorOption(exit.cause)
  process.stderr.write(
    Option.isSome(failure)
      ? `txn: ${failure.value.message}\n`
      : `txn: failed: ${reasons(Cause.squash(exit.cause)).join(": ")}\n`,
  )
  return 1
}

/** An error's message and its causes' (`Failed to connect: connect ECONNREFUSED ...`), once each. */
const reasons = (error: unknown): Array<string> => {
  if (!(error instanceof Error)) return [String(error)]
  const inner = error.cause === undefined ? [] : reasons(error.cause)
  return inner[0] === error.message ? inner : [error.message, ...inner]
}
