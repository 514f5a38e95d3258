import * as Cause from "effect/Cause"
import * as CliConfig from "effect/cli/CliConfig"
import * as CliError from "effect/cli/CliError"
import * as CliOutput from "effect/cli/CliOutput"
import * as Command from "effect/cli/Command"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Path from "effect/Path"
import * as ChildProcessSpawner from "effect/process/ChildProcessSpawner"
import * as Sink from "effect/Sink"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import * as Terminal from "effect/Terminal"
import packageJson from "../package.json" with { type: "json" }
import { presenter } from "./presenter.ts"
import { txn } from "./txn.ts"

const unused = Effect.die(
  new Error("The txn CLI reads no files, prompts for nothing and starts no processes"),
)

/**
 * What effect/cli's runner may ask for. This CLI has no file flags, no prompts (no `--wizard`)
 * and no child processes, and gets its arguments from `runCli`: those services fail if used.
 */
const environment = Layer.mergeAll(
  Path.layer,
  FileSystem.layerNoop({}),
  Layer.succeed(
    Terminal.Terminal,
    Terminal.make({
      columns: Effect.sync(() => process.stdout.columns ?? 80),
      rows: Effect.sync(() => process.stdout.rows ?? 24),
      size: unused,
      readInput: unused,
      readLine: unused,
      display: () => unused,
    }),
  ),
  Layer.succeed(
    ChildProcessSpawner.ChildProcessSpawner,
    ChildProcessSpawner.make(() => unused),
  ),
  Layer.succeed(
    Stdio.Stdio,
    Stdio.make({
      args: unused,
      stdout: () => Sink.die("unused"),
      stderr: () => Sink.die("unused"),
      stdin: Stream.die("unused"),
    }),
  ),
  // `--help`, `--version` and `--completions <shell>`; not the wizard, nor `--log-level`.
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] }),
  CliOutput.layerPresenter(presenter),
)

/**
 * Runs one command line and returns the exit code: 0 done, 1 not found or a failure (the database
 * unreachable, say), 2 invalid arguments. Arguments are checked before the database is touched.
 */
export const runCli = async (argv: ReadonlyArray<string>): Promise<number> => {
  const exit = await Effect.runPromiseExit(
    Command.runWith(txn, { version: packageJson.version })(argv).pipe(Effect.provide(environment)),
  )
  if (Exit.isSuccess(exit)) return 0
  const failure = Cause.findErrorOption(exit.cause)
  // effect/cli has already said what is wrong with the command line.
  if (Option.isSome(failure) && CliError.isCliError(failure.value)) return 2
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
