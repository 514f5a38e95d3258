import {
  Access,
  type ApiKey,
  type CreateApiKey,
  type CreateUser,
  type ListApiKeys,
  type RevokeApiKey,
} from "@txn/domain"
import * as Effect from "effect/Effect"
import { invocation } from "./presenter.ts"

/** One thing the CLI can do, its input already valid by the domain's own schemas. */
export type Action =
  | { readonly _tag: "UsersCreate"; readonly input: CreateUser }
  | { readonly _tag: "KeysCreate"; readonly input: CreateApiKey }
  | { readonly _tag: "KeysList"; readonly input: ListApiKeys }
  | { readonly _tag: "KeysRevoke"; readonly input: RevokeApiKey }

/** A command's result, both ways: JSON for scripts, text for people. */
export interface Output {
  readonly json: unknown
  readonly text: string
}

/**
 * Names are free text (from this CLI or the admin API): control characters and bidirectional
 * overrides in one could move the cursor, recolour the terminal or start a fake line of the
 * table, so they are shown escaped (`\u001b`) instead. `--json` prints them as stored.
 */
const printable = (text: string) =>
  text.replace(
    /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  )

const table = (rows: ReadonlyArray<ReadonlyArray<string>>) => {
  const shown = rows.map((row) => row.map(printable))
  const widths = shown[0]!.map((_, column) => Math.max(...shown.map((row) => row[column]!.length)))
  return shown
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
}

const fields = (pairs: ReadonlyArray<readonly [string, string]>) =>
  table(pairs.map(([label, value]) => [`  ${label}`, value]))

const describeKey = (key: ApiKey) =>
  fields([
    ["id", key.id],
    ["user", key.userId],
    ["name", key.name],
    ["scopes", key.scopes.join(",")],
    ["created", key.createdAt],
  ])

/** Runs an action through the `Access` use cases: the same ones the admin API calls. */
export const execute = Effect.fn("cli.execute")(function* (action: Action) {
  const access = yield* Access
  switch (action._tag) {
    case "UsersCreate": {
      const user = yield* access.createUser(action.input)
      return {
        json: user,
        text: [
          "Created user",
          fields([
            ["id", user.id],
            ["name", user.name],
            ["created", user.createdAt],
          ]),
          "",
          `Give it an API key: ${invocation} keys create --user ${user.id} --scopes read,write`,
        ].join("\n"),
      } satisfies Output
    }
    case "KeysCreate": {
      const { apiKey, secret } = yield* access.createApiKey(action.input)
      return {
        json: { apiKey, secret },
        text: [
          "Created API key",
          describeKey(apiKey),
          "",
          "Secret (shown only this once; store it now, it cannot be recovered):",
          "",
          `  ${secret}`,
          "",
          "Send it with each request as the header `Authorization: Bearer <secret>`.",
        ].join("\n"),
      } satisfies Output
    }
    case "KeysList": {
      const keys = yield* access.listApiKeys(action.input)
      return {
        json: keys,
        text:
          keys.length === 0
            ? `${action.input.userId} has no API keys.`
            : table([
                ["ID", "NAME", "SCOPES", "CREATED", "LAST USED", "REVOKED"],
                ...keys.map((key) => [
                  key.id,
                  key.name,
                  key.scopes.join(","),
                  key.createdAt,
                  key.lastUsedAt ?? "never",
                  key.revokedAt ?? "no",
                ]),
              ]),
      } satisfies Output
    }
    case "KeysRevoke": {
      const key = yield* access.revokeApiKey(action.input)
      return {
        json: key,
        text: [
          "Revoked API key",
          describeKey(key),
          fields([["revoked", key.revokedAt ?? ""]]),
        ].join("\n"),
      } satisfies Output
    }
  }
})
