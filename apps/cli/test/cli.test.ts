import { execFile } from "node:child_process"
import { once } from "node:events"
import { mkdtemp, rm } from "node:fs/promises"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Access, newApiKeyId, newUserId, sha256Hex } from "@txn/domain"
import { makeAccessLayer } from "@txn/platform"
import { runNode, testDatabaseUrl } from "@txn/testing"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import packageJson from "../package.json" with { type: "json" }

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url))
const completeScript = fileURLToPath(new URL("complete.bash", import.meta.url))

/** Runs the CLI as `npm run txn -- ...args` does, on the run's database. */
const txn = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runNode(main, args, {
    env: { ...process.env, DATABASE_URL: Redacted.value(testDatabaseUrl()), ...env },
  })

/** Runs the CLI with `--json` and parses what it printed; fails the test unless it exited 0. */
const txnJson = async (args: ReadonlyArray<string>) => {
  const result = await txn([...args, "--json"])
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: "" })
  return JSON.parse(result.stdout)
}

const secretPattern = /txn_[A-Za-z0-9_-]{43}/g

let runtime: ManagedRuntime.ManagedRuntime<Access, never>
beforeAll(() => {
  runtime = ManagedRuntime.make(makeAccessLayer({ databaseUrl: testDatabaseUrl() }))
})
afterAll(() => runtime.dispose())

/** What the API does with a bearer token: the credential, or the failure's tag. */
const authenticate = (secret: string) =>
  runtime.runPromise(
    Access.use((access) => access.authenticate(secret)).pipe(
      Effect.catchTag("Unauthorized", (error) => Effect.succeed(error._tag)),
    ),
  )

const newUser = async () => (await txnJson(["users", "create", "--name", "CLI test user"])).id

describe("npm run txn", () => {
  it("--help lists every command, and each command's --help its options", async () => {
    const top = await txn(["--help"])
    expect(top).toMatchObject({ code: 0, stderr: "" })
    for (const command of ["users create", "api-keys create", "api-keys list", "api-keys revoke"]) {
      expect(top.stdout).toContain(command)
    }

    const keys = await txn(["api-keys", "--help"])
    expect(keys.code).toBe(0)
    expect(keys.stdout).toContain("api-keys revoke")
    expect(keys.stdout).not.toContain("users create")

    const expected = {
      "users create": ["--name <name>"],
      "api-keys create": ["--user <usr_id>", "--scopes read,write", "[--name <name>]"],
      "api-keys list": ["--user <usr_id>"],
      "api-keys revoke": ["<key_id>"],
    }
    for (const [command, options] of Object.entries(expected)) {
      const help = await txn([...command.split(" "), "--help"])
      expect(help).toMatchObject({ code: 0, stderr: "" })
      expect(help.stdout).toContain(`USAGE\n  npm run txn -- ${command}`)
      for (const option of [...options, "--json"]) expect(help.stdout).toContain(option)
    }
  })

  it("--version prints the CLI's version, from its package.json", async () => {
    for (const flag of ["--version", "-v"]) {
      expect(await txn([flag])).toEqual({
        code: 0,
        stdout: `txn v${packageJson.version}\n`,
        stderr: "",
      })
    }
  })

  describe("--completions <shell> prints a completion script for a command named txn", () => {
    /** What bash offers on Tab after `line` once the script is loaded. */
    const complete = async (script: string, line: string) => {
      const { stdout } = await promisify(execFile)("bash", [completeScript], {
        env: { PATH: process.env.PATH, SCRIPT: script, COMP_LINE: line },
      })
      return stdout.split("\n").filter((word) => word !== "")
    }

    it("bash: commands, then each command's flags", async () => {
      const script = await txn(["--completions", "bash"])
      expect(script).toMatchObject({ code: 0, stderr: "" })
      expect(await complete(script.stdout, "txn ")).toEqual(["users", "api-keys", "keys"])
      expect(await complete(script.stdout, "txn api-keys ")).toEqual(["create", "list", "revoke"])
      expect(await complete(script.stdout, "txn api-keys re")).toEqual(["revoke"])
      expect(await complete(script.stdout, "txn api-keys create --s")).toEqual(["--scopes"])
      expect(await complete(script.stdout, "txn api-keys create --user u --")).toEqual([
        "--scopes",
        "--name",
        "--json",
      ])
    })

    it.each([
      ["zsh", ["#compdef txn", "_txn_keys_revoke", "--scopes["]],
      ["fish", ["complete -c txn", "-a 'revoke'", "-l scopes"]],
    ])("%s", async (shell, expected) => {
      const script = await txn(["--completions", shell])
      expect(script).toMatchObject({ code: 0, stderr: "" })
      for (const text of expected) expect(script.stdout).toContain(text)
    })
  })

  it("users create prints the new user's id and name; --json prints the user", async () => {
    const text = await txn(["users", "create", "--name", "Ada Lovelace"])
    expect(text).toMatchObject({ code: 0, stderr: "" })
    expect(text.stdout).toMatch(/id +usr_[0-9a-z]{26}\n/)
    expect(text.stdout).toContain("Ada Lovelace")

    const user = await txnJson(["users", "create", "--name", "Grace Hopper"])
    expect(user).toEqual({
      id: expect.stringMatching(/^usr_[0-9a-z]{26}$/),
      name: "Grace Hopper",
      createdAt: expect.any(String),
    })
  })

  it("api-keys create prints the key id and the secret, once, and that secret authenticates", async () => {
    const userId = await newUser()
    const created = await txn(["api-keys", "create", "--user", userId, "--scopes", "read,write"])
    expect(created).toMatchObject({ code: 0, stderr: "" })

    const secrets = created.stdout.match(secretPattern) ?? []
    expect(secrets).toHaveLength(1)
    const keyId = /id +(key_[0-9a-z]{26})\n/.exec(created.stdout)?.[1]
    expect(keyId).toBeDefined()
    expect(created.stdout).toContain("shown only this once")

    expect(await authenticate(secrets[0]!)).toEqual({
      keyId,
      userId,
      scopes: ["read", "write"],
      via: "key",
      accountIds: null,
      expiresAt: null,
    })
  })

  it("api-keys create --json gives the key and its secret, with the name and scopes asked for", async () => {
    const userId = await newUser()
    const { apiKey, secret } = await txnJson([
      "api-keys",
      "create",
      "--user",
      userId,
      "--scopes",
      "read",
      "--name",
      "reporting",
    ])
    expect(apiKey).toEqual({
      id: expect.stringMatching(/^key_[0-9a-z]{26}$/),
      userId,
      name: "reporting",
      scopes: ["read"],
      createdAt: expect.any(String),
      lastUsedAt: null,
      revokedAt: null,
    })
    expect(await authenticate(secret)).toEqual({
      keyId: apiKey.id,
      userId,
      scopes: ["read"],
      via: "key",
      accountIds: null,
      expiresAt: null,
    })
  })

  it("api-keys list shows each key's name, scopes, last use and revocation, never a secret", async () => {
    const userId = await newUser()
    const used = await txnJson(["api-keys", "create", "--user", userId, "--scopes", "read,write"])
    const revoked = await txnJson([
      ...["api-keys", "create", "--user", userId, "--scopes", "write", "--name", "old"],
    ])
    await authenticate(used.secret)
    await txnJson(["api-keys", "revoke", revoked.apiKey.id])

    const listed = await txnJson(["api-keys", "list", "--user", userId])
    expect(listed).toEqual([
      { ...revoked.apiKey, revokedAt: expect.any(String) },
      { ...used.apiKey, lastUsedAt: expect.any(String) },
    ])

    const text = await txn(["api-keys", "list", "--user", userId])
    expect(text).toMatchObject({ code: 0, stderr: "" })
    const lines = text.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^ID +NAME +SCOPES +CREATED +LAST USED +REVOKED$/)
    expect(lines[1]).toMatch(new RegExp(`^${revoked.apiKey.id} +old +write +\\S+ +never +\\S+Z$`))
    expect(lines[2]).toMatch(new RegExp(`^${used.apiKey.id} +cli +read,write +\\S+ +\\S+Z +no$`))

    for (const output of [text.stdout, JSON.stringify(listed)]) {
      expect(output).not.toMatch(secretPattern)
      for (const { secret } of [used, revoked]) {
        expect(output).not.toContain(await sha256Hex(secret))
      }
    }
  })

  it("shows control characters in names escaped, so a name cannot forge lines or colours", async () => {
    const userId = await newUser()
    const name = "ok\nkey_forged  admin  read,write\u001b[2K\u202Eevil"
    await runtime.runPromise(
      Access.use((access) => access.createApiKey({ userId, name, scopes: ["read"] })),
    )
    const text = await txn(["api-keys", "list", "--user", userId])
    expect(text).toMatchObject({ code: 0, stderr: "" })
    const lines = text.stdout.trimEnd().split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[1]).toContain("ok\\u000akey_forged  admin  read,write\\u001b[2K\\u202eevil")
    expect(text.stdout.includes("\u001b") || text.stdout.includes("\u202e")).toBe(false)
    expect((await txnJson(["api-keys", "list", "--user", userId]))[0].name).toBe(name)
  })

  it("answers to keys, the short name of api-keys, alike", async () => {
    const userId = await newUser()
    await txnJson(["api-keys", "create", "--user", userId, "--scopes", "read"])
    const long = await txn(["api-keys", "list", "--user", userId])
    expect(long.code).toBe(0)
    expect(await txn(["keys", "list", "--user", userId])).toEqual(long)
  })

  it("api-keys list says so when a user has no keys", async () => {
    const userId = await newUser()
    expect(await txn(["api-keys", "list", "--user", userId])).toMatchObject({
      code: 0,
      stdout: `${userId} has no API keys.\n`,
    })
    expect(await txnJson(["api-keys", "list", "--user", userId])).toEqual([])
  })

  it("api-keys revoke stops the key from authenticating", async () => {
    const userId = await newUser()
    const { apiKey, secret } = await txnJson([
      ...["api-keys", "create", "--user", userId, "--scopes", "read"],
    ])
    expect(await authenticate(secret)).toMatchObject({ keyId: apiKey.id })

    const revoked = await txn(["api-keys", "revoke", apiKey.id])
    expect(revoked).toMatchObject({ code: 0, stderr: "" })
    expect(revoked.stdout).toContain(apiKey.id)
    expect(revoked.stdout).toMatch(/revoked +\S+Z\n/)

    expect(await authenticate(secret)).toBe("Unauthorized")
  })

  describe("with invalid arguments: exit code 2, the bad argument named, nothing printed", () => {
    // Well-formed ids, so each case below has exactly one thing wrong.
    const user = `usr_${"a".repeat(26)}`
    it.concurrent.each([
      [["users", "create"], "Missing required flag: --name"],
      [["users", "create", "--name", "   "], 'Invalid --name "   "'],
      [["users", "create", "--name", "x", "--bogus"], "Unrecognized flag: --bogus"],
      [["users", "create", "--name"], "Missing value for flag --name"],
      [["api-keys", "create", "--user", "usr_1", "--scopes", "read"], 'Invalid --user "usr_1"'],
      [
        ["api-keys", "create", "--user", user, "--scopes", "read,admin"],
        'Invalid --scopes "admin"',
      ],
      [
        ["api-keys", "create", "--user", user, "--scopes", "read,read"],
        'Invalid --scopes "read,read"',
      ],
      [["api-keys", "create", "--user", user], "Missing required flag: --scopes"],
      [
        ["api-keys", "create", "--user", user, "--scopes", "read", "--name", ""],
        'Invalid --name ""',
      ],
      [["api-keys", "list", "--user", "acc_1"], 'Invalid --user "acc_1"'],
      [["api-keys", "revoke"], "Missing required argument: key_id"],
      [["api-keys", "revoke", "key_1"], 'Invalid <key_id> "key_1"'],
      [
        ["api-keys", "revoke", `key_${"a".repeat(26)}`, "extra"],
        'Unexpected positional argument: "extra"',
      ],
      [["accounts", "create"], 'Unknown subcommand "accounts"'],
      [["api-keys"], "Missing an api-keys command: create, list, revoke"],
      [[], "Missing a command"],
    ])("%j", async (args, message) => {
      const result = await txn(args)
      expect(result).toMatchObject({ code: 2, stdout: "" })
      expect(result.stderr).toContain(message)
    })

    it.concurrent.each([
      [["key", "list"], 'Unknown subcommand "key"', "keys"],
      [["api-key", "list"], 'Unknown subcommand "api-key"', "api-keys"],
      [["api-keys", "craete"], 'Unknown subcommand "craete"', "create"],
      [["api-keys", "list", "--usr", user], "Unrecognized flag: --usr", "--user"],
      [
        ["api-keys", "create", "--user", user, "--scope", "read"],
        "Unrecognized flag: --scope",
        "--scopes",
      ],
      [["--completion", "bash"], "Unrecognized flag: --completion", "--completions"],
    ])("%j suggests the name meant", async (args, message, suggestion) => {
      const result = await txn(args)
      expect(result).toMatchObject({ code: 2, stdout: "" })
      expect(result.stderr).toContain(message)
      expect(result.stderr).toContain(`Did you mean this?\n    ${suggestion}\n`)
    })

    it("suggests nothing when no name is near", async () => {
      const result = await txn(["accounts", "create"])
      expect(result.code).toBe(2)
      expect(result.stderr).not.toContain("Did you mean")
    })

    it("names a shell it has no completions for", async () => {
      const result = await txn(["--completions", "tcsh"])
      expect(result).toMatchObject({ code: 2, stdout: "" })
      expect(result.stderr).toContain('Invalid value for flag --completions: "tcsh"')
    })

    it("reports every bad argument at once", async () => {
      const result = await txn([
        "api-keys",
        "create",
        "--user",
        "me",
        "--scopes",
        "all",
        "--name",
        "",
      ])
      expect(result.code).toBe(2)
      for (const argument of ["--user", "--scopes", "--name"]) {
        expect(result.stderr).toContain(`Invalid ${argument}`)
      }
    })

    it("checks the arguments before connecting to the database", async () => {
      const result = await txn(["api-keys", "revoke", "nope"], {
        DATABASE_URL: "postgres://postgres@127.0.0.1:1/unreachable",
      })
      expect(result.code).toBe(2)
      expect(result.stderr).toContain("Invalid <key_id>")
    })
  })

  describe("with ids that do not exist: exit code 1 and a message naming them", () => {
    it.each([
      [
        "api-keys create",
        (id: string) => ["api-keys", "create", "--user", id, "--scopes", "read"],
        "user",
      ],
      ["api-keys list", (id: string) => ["api-keys", "list", "--user", id], "user"],
      ["api-keys revoke", (id: string) => ["api-keys", "revoke", id], "API key"],
    ])("%s", async (_, args, resource) => {
      const id = resource === "user" ? newUserId() : newApiKeyId()
      const result = await txn(args(id))
      expect(result).toMatchObject({
        code: 1,
        stdout: "",
        stderr: `txn: No ${resource} with id ${id}\n`,
      })
    })
  })

  it("refuses a server on the embedded port that is not the project's own, saying what to do", async () => {
    const holder = createServer((socket) => socket.destroy())
    holder.listen(0, "127.0.0.1")
    await once(holder, "listening")
    const { port } = holder.address() as AddressInfo
    const dataDir = await mkdtemp(join(tmpdir(), "txn-cli-"))
    try {
      const result = await txn(["users", "create", "--name", "Nobody"], {
        DATABASE_URL: "",
        TXN_EMBEDDED_PG_PORT: String(port),
        TXN_DATA_DIR: dataDir,
      })
      expect(result.code).toBe(1)
      expect(result.stdout).toBe("")
      expect(result.stderr).toMatch(
        new RegExp(
          `^txn: Port ${port} is taken by a server that is not this project's embedded PostgreSQL`,
        ),
      )
      expect(result.stderr).toContain("TXN_EMBEDDED_PG_PORT")
      expect(result.stderr).toContain("DATABASE_URL")
      expect(result.stderr).not.toMatch(/\n\s+at /)
    } finally {
      holder.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it("exits 1 naming the failure when the database cannot be reached", async () => {
    const result = await txn(["users", "create", "--name", "x"], {
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/unreachable",
    })
    expect(result).toMatchObject({ code: 1, stdout: "" })
    expect(result.stderr).toMatch(/^txn: failed: .*ECONNREFUSED/)
  })
})
