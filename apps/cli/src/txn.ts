import { CreateApiKey, CreateUser, ListApiKeys, RevokeApiKey } from "@txn/domain"
import * as Console from "effect/Console"
import * as Argument from "effect/cli/Argument"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import { type Action, execute } from "./execute.ts"
import { invocation } from "./presenter.ts"
import { withAccess } from "./withAccess.ts"

/** The name of a key created without `--name`. */
const defaultKeyName = "cli"

/** A field of a domain input, with the flag or argument it came from. */
interface Given {
  readonly from: string
  readonly value: unknown
  /** What was typed, when `value` was made from it (`read, write` for ["read", "write"]). */
  readonly typed?: string | undefined
}

/**
 * Decodes the input with a domain schema before anything is touched. Every bad field is reported,
 * at once, naming the flag or argument it came from and the value given; effect/cli shows them as
 * it shows its own mistakes.
 */
const decode = <S extends Schema.Decoder<unknown>>(
  commandPath: ReadonlyArray<string>,
  schema: S,
  fields: Readonly<Record<string, Given>>,
): Effect.Effect<S["Type"], CliError.ShowHelp> => {
  const input = Object.fromEntries(
    Object.entries(fields).map(([field, { value }]) => [field, value]),
  )
  const decoded = Schema.decodeUnknownResult(schema)(input, {
    errors: "all",
    onExcessProperty: "error",
  })
  if (Result.isSuccess(decoded)) return Effect.succeed(decoded.success)
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(decoded.failure.issue).issues
  const errors = issues.map((issue) => {
    const [field, index] = (issue.path ?? []).map((segment) =>
      typeof segment === "object" ? segment.key : segment,
    )
    const given = fields[String(field)]
    if (given === undefined) {
      return new CliError.ValidationError({ message: `Invalid input: ${issue.message}` })
    }
    // For one item of a list (a scope), the item is the value to show.
    const shown =
      index !== undefined && Array.isArray(given.value)
        ? given.value[Number(index)]
        : (given.typed ?? given.value)
    return new CliError.ValidationError({
      message: `Invalid ${given.from} ${JSON.stringify(shown)}: ${issue.message}`,
    })
  })
  return Effect.fail(new CliError.ShowHelp({ commandPath, errors }))
}

/** Runs an action on the database and prints its result, as JSON with `--json`. */
const run = (action: Action, json: boolean) =>
  withAccess(execute(action)).pipe(
    Effect.flatMap((output) =>
      Console.log(json ? JSON.stringify(output.json, null, 2) : output.text),
    ),
  )

/** `read,write` -> ["read", "write"]; spaces around commas are allowed. */
const list = (value: string) => value.split(",").map((item) => item.trim())

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print the result as JSON (for scripts)"),
  Flag.withoutNegation,
  Flag.withDefault(false),
)

const userId = (description: string) =>
  Flag.String("user").pipe(Flag.withMetavar("<usr_id>"), Flag.withDescription(description))

const usersCreate = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(
      Flag.withMetavar("<name>"),
      Flag.withDescription("The user's name (1-200 chars)"),
    ),
    json,
  },
  (flags) =>
    decode(["txn", "users", "create"], CreateUser, {
      name: { from: "--name", value: flags.name },
    }).pipe(Effect.flatMap((input) => run({ _tag: "UsersCreate", input }, flags.json))),
).pipe(Command.withDescription("Create a user; prints its id."))

const keysCreate = Command.make(
  "create",
  {
    user: userId("The user the key acts for"),
    scopes: Flag.String("scopes").pipe(
      Flag.withMetavar("read,write"),
      Flag.withDescription("What it may do: read (queries), write (changes), or both"),
    ),
    name: Flag.String("name").pipe(
      Flag.withMetavar("<name>"),
      Flag.withDescription(`A label to tell keys apart (default "${defaultKeyName}")`),
      Flag.withDefault(defaultKeyName),
    ),
    json,
  },
  (flags) =>
    decode(["txn", "api-keys", "create"], CreateApiKey, {
      userId: { from: "--user", value: flags.user },
      name: { from: "--name", value: flags.name },
      scopes: { from: "--scopes", value: list(flags.scopes), typed: flags.scopes },
    }).pipe(Effect.flatMap((input) => run({ _tag: "KeysCreate", input }, flags.json))),
).pipe(
  Command.withShortDescription("Create an API key for a user; prints its secret, once."),
  Command.withDescription(
    "Create an API key for a user; prints its secret, once. The secret is shown only now: " +
      "store it. Only its SHA-256 hash is kept, so a lost key cannot be recovered; revoke it " +
      "and create another.",
  ),
)

const keysList = Command.make("list", { user: userId("Whose keys"), json }, (flags) =>
  decode(["txn", "api-keys", "list"], ListApiKeys, {
    userId: { from: "--user", value: flags.user },
  }).pipe(Effect.flatMap((input) => run({ _tag: "KeysList", input }, flags.json))),
).pipe(Command.withDescription("List a user's API keys (never their secrets)."))

const keysRevoke = Command.make(
  "revoke",
  {
    id: Argument.String("key_id").pipe(Argument.withDescription("The key to revoke (key_...)")),
    json,
  },
  (flags) =>
    decode(["txn", "api-keys", "revoke"], RevokeApiKey, {
      id: { from: "<key_id>", value: flags.id },
    }).pipe(Effect.flatMap((input) => run({ _tag: "KeysRevoke", input }, flags.json))),
).pipe(Command.withDescription("Revoke an API key; requests with it answer 401 from then on."))

const users = Command.make("users").pipe(
  Command.withDescription("Users: create one."),
  Command.withSubcommands([usersCreate]),
  Command.withExamples([{ command: `${invocation} users create --name "Alice"` }]),
)

const keys = Command.make("api-keys").pipe(
  Command.withAlias("keys"),
  Command.withDescription("A user's API keys: create, list and revoke them."),
  Command.withSubcommands([keysCreate, keysList, keysRevoke]),
  Command.withExamples([
    { command: `${invocation} api-keys create --user <usr_id> --scopes read,write --name laptop` },
    { command: `${invocation} api-keys list --user <usr_id>` },
    { command: `${invocation} api-keys revoke <key_id>` },
  ]),
)

/** The CLI: its commands, their flags and arguments, and the help effect/cli makes of them. */
export const txn = Command.make("txn").pipe(
  Command.withDescription(
    "Manage users and API keys directly in the database (DATABASE_URL, or the embedded " +
      "PostgreSQL when unset); migrates it first unless NODE_ENV=production. Exit codes: 0 done, " +
      "1 not found (or the database failed), 2 invalid arguments.",
  ),
  Command.withSubcommands([users, keys]),
  Command.withExamples([
    { command: `${invocation} users create --name "Alice"` },
    { command: `${invocation} api-keys create --user <usr_id> --scopes read,write --name laptop` },
    { command: `${invocation} api-keys list --user <usr_id>` },
    { command: `${invocation} api-keys revoke <key_id>` },
    { command: `${invocation} api-keys create --help`, description: "Any command's flags" },
  ]),
)
