import { parseArgs } from "node:util"
import { CreateApiKey, CreateUser, ListApiKeys, RevokeApiKey } from "@txn/domain"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"

/** One thing the CLI can do, its input already valid by the domain's own schemas. */
export type Command =
  | { readonly _tag: "UsersCreate"; readonly input: CreateUser }
  | { readonly _tag: "KeysCreate"; readonly input: CreateApiKey }
  | { readonly _tag: "KeysList"; readonly input: ListApiKeys }
  | { readonly _tag: "KeysRevoke"; readonly input: RevokeApiKey }

/** What the command line asks for: a command to run, help to print, or a mistake to name. */
export type Parsed =
  | { readonly _tag: "Run"; readonly command: Command; readonly json: boolean }
  | { readonly _tag: "Help"; readonly text: string }
  | { readonly _tag: "Invalid"; readonly message: string }

export const invocation = "npm run txn --"

/** The name of a key created without `--name`. */
export const defaultKeyName = "cli"

interface Arguments {
  readonly options: Readonly<Record<string, string | undefined>>
  readonly positional: string | undefined
}

interface CommandSpec {
  readonly summary: string
  readonly options: Readonly<
    Record<string, { readonly value: string; readonly required: boolean; readonly help: string }>
  >
  readonly positional?: { readonly name: string; readonly help: string }
  readonly notes?: string
  readonly build: (args: Arguments) => Result.Result<Command, string>
}

/**
 * Decodes `input` with a domain schema; every bad field becomes one line naming the argument it
 * came from (`field` -> `--option`) and the value given.
 */
const decode = <S extends Schema.Decoder<unknown>>(
  schema: S,
  input: Record<string, unknown>,
  argumentOf: Readonly<Record<string, { readonly name: string; readonly given: unknown }>>,
): Result.Result<S["Type"], string> => {
  const decoded = Schema.decodeUnknownResult(schema)(input, {
    errors: "all",
    onExcessProperty: "error",
  })
  if (Result.isSuccess(decoded)) return Result.succeed(decoded.success)
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues
  return Result.fail(
    issues
      .map((issue) => {
        const [field, index] = (issue.path ?? []).map((segment) =>
          typeof segment === "object" ? segment.key : segment,
        )
        const argument = argumentOf[String(field)]
        if (argument === undefined) return `Invalid input: ${issue.message}`
        // For one item of a list (a scope), the item is the value to show.
        const items = input[String(field)]
        const got =
          index !== undefined && Array.isArray(items) ? items[Number(index)] : argument.given
        return `Invalid ${argument.name} ${JSON.stringify(got)}: ${issue.message}`
      })
      .join("\n"),
  )
}

/** `read,write` -> ["read", "write"]; spaces around commas are allowed. */
const list = (value: string | undefined) =>
  value === undefined ? [] : value.split(",").map((item) => item.trim())

const groups: Readonly<Record<string, Readonly<Record<string, CommandSpec>>>> = {
  users: {
    create: {
      summary: "Create a user; prints its id.",
      options: { name: { value: "<name>", required: true, help: "The user's name (1-200 chars)" } },
      build: ({ options }) =>
        decode(
          CreateUser,
          { name: options.name },
          { name: { name: "--name", given: options.name } },
        ).pipe(Result.map((input): Command => ({ _tag: "UsersCreate", input }))),
    },
  },
  keys: {
    create: {
      summary: "Create an API key for a user; prints its secret, once.",
      options: {
        user: { value: "<usr_id>", required: true, help: "The user the key acts for" },
        scopes: {
          value: "read,write",
          required: true,
          help: "What it may do: read (queries), write (changes), or both",
        },
        name: {
          value: "<name>",
          required: false,
          help: `A label to tell keys apart (default "${defaultKeyName}")`,
        },
      },
      notes:
        "The secret is shown only now: store it. Only its SHA-256 hash is kept, so a lost key\n" +
        "cannot be recovered; revoke it and create another.",
      build: ({ options }) =>
        decode(
          CreateApiKey,
          {
            userId: options.user,
            name: options.name ?? defaultKeyName,
            scopes: list(options.scopes),
          },
          {
            userId: { name: "--user", given: options.user },
            name: { name: "--name", given: options.name },
            scopes: { name: "--scopes", given: options.scopes },
          },
        ).pipe(Result.map((input): Command => ({ _tag: "KeysCreate", input }))),
    },
    list: {
      summary: "List a user's API keys (never their secrets).",
      options: { user: { value: "<usr_id>", required: true, help: "Whose keys" } },
      build: ({ options }) =>
        decode(
          ListApiKeys,
          { userId: options.user },
          { userId: { name: "--user", given: options.user } },
        ).pipe(Result.map((input): Command => ({ _tag: "KeysList", input }))),
    },
    revoke: {
      summary: "Revoke an API key; requests with it answer 401 from then on.",
      options: {},
      positional: { name: "<key_id>", help: "The key to revoke (key_...)" },
      build: ({ positional }) =>
        decode(
          RevokeApiKey,
          { id: positional },
          { id: { name: "<key_id>", given: positional } },
        ).pipe(Result.map((input): Command => ({ _tag: "KeysRevoke", input }))),
    },
  },
}

const usageOf = (path: string, spec: CommandSpec) =>
  [
    path,
    spec.positional?.name,
    ...Object.entries(spec.options).map(([name, option]) =>
      option.required ? `--${name} ${option.value}` : `[--${name} ${option.value}]`,
    ),
    "[--json]",
  ]
    .filter((part) => part !== undefined)
    .join(" ")

const commandHelp = (path: string, spec: CommandSpec) => {
  const rows = [
    ...(spec.positional === undefined ? [] : [[spec.positional.name, spec.positional.help]]),
    ...Object.entries(spec.options).map(([name, option]) => [
      `--${name} ${option.value}`,
      option.help,
    ]),
    ["--json", "Print the result as JSON (for scripts)"],
    ["-h, --help", "Show this help"],
  ]
  const width = Math.max(...rows.map(([left]) => left!.length))
  return [
    `Usage: ${invocation} ${usageOf(path, spec)}`,
    "",
    spec.summary,
    "",
    ...rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`),
    ...(spec.notes === undefined ? [] : ["", spec.notes]),
    "",
  ].join("\n")
}

const overview = (only?: string) => {
  const entries = Object.entries(groups)
    .filter(([group]) => only === undefined || group === only)
    .flatMap(([group, actions]) =>
      Object.entries(actions).map(([action, spec]) => ({ path: `${group} ${action}`, spec })),
    )
  const width = Math.max(...entries.map(({ path }) => path.length))
  return [
    `Usage: ${invocation} <command> [options]`,
    "",
    "Manage users and API keys directly in the database (DATABASE_URL, or the embedded",
    "PostgreSQL when unset); migrates it first unless NODE_ENV=production.",
    "",
    "Commands:",
    ...entries.map(({ path, spec }) => `  ${path.padEnd(width)}  ${spec.summary}`),
    "",
    `Run '${invocation} <command> --help' for a command's options. Exit codes: 0 done,`,
    "1 not found (or the database failed), 2 invalid arguments.",
    "",
  ].join("\n")
}

const invalid = (message: string, hint: string): Parsed => ({
  _tag: "Invalid",
  message: `${message}\n${hint}`,
})

const isOption = (arg: string | undefined) => arg?.startsWith("-") ?? false

/** Reads the command line (without `node main.ts`): command words first, then options. */
export const parseCommand = (argv: ReadonlyArray<string>): Parsed => {
  const wantsHelp = argv.includes("--help") || argv.includes("-h")
  const [group, action] = argv
  const topHint = `Run '${invocation} --help' to see the commands.`
  if (group === undefined || isOption(group)) {
    return wantsHelp ? { _tag: "Help", text: overview() } : invalid("Missing a command.", topHint)
  }
  const actions = groups[group]
  if (actions === undefined) return invalid(`Unknown command "${group}".`, topHint)
  if (action === undefined || isOption(action)) {
    return wantsHelp
      ? { _tag: "Help", text: overview(group) }
      : invalid(
          `Missing a ${group} command: ${Object.keys(actions).join(", ")}.`,
          `Run '${invocation} ${group} --help' to see them.`,
        )
  }
  const spec = actions[action]
  if (spec === undefined) return invalid(`Unknown command "${group} ${action}".`, topHint)
  const path = `${group} ${action}`
  if (wantsHelp) return { _tag: "Help", text: commandHelp(path, spec) }

  const hint = `Usage: ${invocation} ${usageOf(path, spec)}\nRun '${invocation} ${path} --help' for details.`
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv.slice(2) as Array<string>,
      options: {
        ...Object.fromEntries(Object.keys(spec.options).map((name) => [name, { type: "string" }])),
        json: { type: "boolean" },
      },
      allowPositionals: spec.positional !== undefined,
      strict: true,
    })
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error), hint)
  }
  const values = parsed.values as Record<string, string | boolean | undefined>
  const [positional, ...extra] = parsed.positionals
  if (spec.positional !== undefined && positional === undefined) {
    return invalid(`Missing ${spec.positional.name}.`, hint)
  }
  if (extra.length > 0) return invalid(`Unexpected argument "${extra[0]}".`, hint)
  const missing = Object.entries(spec.options).filter(
    ([name, option]) => option.required && values[name] === undefined,
  )
  if (missing.length > 0) {
    return invalid(
      `Missing ${missing.map(([name, option]) => `--${name} ${option.value}`).join(", ")}.`,
      hint,
    )
  }
  const options = Object.fromEntries(
    Object.keys(spec.options).map((name) => [name, values[name] as string | undefined]),
  )
  const built = spec.build({ options, positional })
  return Result.isSuccess(built)
    ? { _tag: "Run", command: built.success, json: values.json === true }
    : invalid(built.failure, hint)
}
