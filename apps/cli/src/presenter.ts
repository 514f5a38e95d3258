import * as Console from "effect/Console"
import * as CliError from "effect/cli/CliError"
import * as CliOutput from "effect/cli/CliOutput"
import type * as HelpDoc from "effect/cli/HelpDoc"
import * as TerminalCapabilities from "effect/cli/TerminalCapabilities"
import * as Effect from "effect/Effect"

/** How the CLI is run; help, hints and messages show commands this way. */
export const invocation = "npm run txn --"

/**
 * A command's usage as it is typed (`npm run txn -- api-keys create --user <usr_id> ... [--json]`):
 * effect/cli's own says `txn api-keys create [flags]`, naming no program that exists and no flag.
 */
const usage = (doc: HelpDoc.HelpDoc) =>
  [
    invocation,
    ...(doc.commandPath ?? []).slice(1),
    ...(doc.subcommands === undefined ? [] : ["<command>"]),
    ...(doc.args ?? []).map((arg) => (arg.required ? `<${arg.name}>` : `[<${arg.name}>]`)),
    ...doc.flags.map((flag) => {
      const text = flag.type === "boolean" ? `--${flag.name}` : `--${flag.name} ${flag.type}`
      return flag.required ? text : `[${text}]`
    }),
  ].join(" ")

/** Words to lines of at most 98 columns, for a description effect/cli prints on one line. */
const wrap = (text: string) => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > 98) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  return [...lines, line]
}

/** Levenshtein distance: the fewest one-character edits that turn `a` into `b`. */
const distance = (a: string, b: string) => {
  let above = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, substitution)
    }
    above = row
  }
  return above[b.length]!
}

/**
 * effect/cli suggests a command's own flags for a misspelled one, but not the global ones: this
 * adds the nearest of those (`--verison` -> `--version`), at most two edits away.
 */
const suggestGlobalFlag =
  (doc: HelpDoc.HelpDoc) =>
  (error: CliError.NonShowHelpErrors): CliError.NonShowHelpErrors => {
    if (error._tag !== "UnrecognizedOption" || error.suggestions.length > 0) return error
    const near = (doc.globalFlags ?? [])
      .map(({ name }) => ({ flag: `--${name}`, edits: distance(error.option, `--${name}`) }))
      .filter(({ edits }) => edits <= 2)
    const fewest = Math.min(...near.map(({ edits }) => edits))
    return new CliError.UnrecognizedOption({
      option: error.option,
      command: error.command,
      suggestions: near.filter(({ edits }) => edits === fewest).map(({ flag }) => flag),
    })
  }

/** A usage mistake, on stderr: what is wrong, the usage, and where to read more. */
const mistake = (doc: HelpDoc.HelpDoc, messages: ReadonlyArray<string>) =>
  Console.error(
    [
      ...messages.map((message) => `txn: ${message}`),
      `Usage: ${usage(doc)}`,
      `Run '${[invocation, ...(doc.commandPath ?? []).slice(1), "--help"].join(" ")}' for details.`,
    ].join("\n"),
  )

/** `Missing an api-keys command: create, list, revoke.` */
const missingCommand = (doc: HelpDoc.HelpDoc) => {
  const group = (doc.commandPath ?? []).slice(1)
  const names = (doc.subcommands ?? []).flatMap(({ commands }) => commands.map(({ name }) => name))
  const what = [...group, "command"].join(" ")
  return `Missing ${/^[aeiou]/.test(what) ? "an" : "a"} ${what}: ${names.join(", ")}.`
}

/**
 * What effect/cli shows: help and the version on stdout; mistakes on stderr alone, so stdout
 * stays empty for a script reading it.
 */
export const presenter: CliOutput.Presenter = {
  present: Effect.fnUntraced(function* (event) {
    const { canColor } = yield* TerminalCapabilities.TerminalCapabilities
    const formatter = CliOutput.defaultFormatter({ colors: canColor })
    switch (event._tag) {
      case "Help":
        // Shown unasked only for a group run without one of its commands.
        return event.reason === "Requested"
          ? yield* Console.log(
              formatter.formatHelpDoc({
                ...event.helpDoc,
                // The formatter indents the first line by two spaces.
                description: wrap(event.helpDoc.description).join("\n  "),
                usage: usage(event.helpDoc),
              }),
            )
          : yield* mistake(event.helpDoc, [missingCommand(event.helpDoc)])
      case "InvalidInvocation":
        return yield* mistake(
          event.helpDoc,
          event.errors.map(suggestGlobalFlag(event.helpDoc)).map(formatter.formatCliError),
        )
      case "Version":
        return yield* Console.log(formatter.formatVersion(event.name, event.version))
    }
  }),
}
