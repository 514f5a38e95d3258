import { execFile } from "node:child_process"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const run = promisify(execFile)

interface Diagnostic {
  readonly category: string
  readonly location: { readonly path: string }
}

/**
 * What `npm run lint`'s Biome, with the repository's biome.json, reports for `files` (paths from
 * the root to their text), linted in a scratch copy of the layout.
 */
const lint = async (files: Record<string, string>) => {
  const scratch = await mkdtemp(join(tmpdir(), "txn-boundaries-"))
  try {
    await run("cp", [join(root, "biome.json"), scratch])
    // biome.json reads .gitignore through git.
    await writeFile(join(scratch, ".gitignore"), "")
    await run("git", ["init", "-q"], { cwd: scratch })
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(scratch, path)), { recursive: true })
      await writeFile(join(scratch, path), text)
    }
    const output = await run(
      join(root, "node_modules/.bin/biome"),
      ["lint", "--reporter=json", "--max-diagnostics=100", "."],
      { cwd: scratch },
    ).then(
      ({ stdout }) => stdout,
      (error: { stdout: string; stderr: string }) => error.stdout || error.stderr,
    )
    const report = JSON.parse(output) as { diagnostics: ReadonlyArray<Diagnostic> }
    // Each file and rule once, however many of its imports the rule refused.
    return [...new Set(report.diagnostics.map((d) => `${d.location.path} ${d.category}`))].sort()
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

describe("the boundaries npm run lint enforces", () => {
  it("the domain imports effect and its own modules, nothing else", async () => {
    const found = await lint({
      "packages/domain/src/Fine.ts":
        'import * as Effect from "effect/Effect"\nimport * as Base64Url from "effect/encoding/Base64Url"\nimport { Account } from "./Account.ts"\n\nexport const all = [Effect, Base64Url, Account]\n',
      "packages/domain/src/Pg.ts": 'import pg from "pg"\n\nexport const all = [pg]\n',
      "packages/domain/src/Db.ts":
        'import { layer } from "@txn/db"\n\nexport const all = [layer]\n',
      "packages/domain/src/Node.ts":
        'import { createHash } from "node:crypto"\n\nexport const all = [createHash]\n',
      // Outside the domain the same imports are fine.
      "packages/db/src/Pg.ts": 'import pg from "pg"\n\nexport const all = [pg]\n',
    })
    expect(found).toEqual([
      "packages/domain/src/Db.ts lint/style/noRestrictedImports",
      "packages/domain/src/Node.ts lint/style/noRestrictedImports",
      "packages/domain/src/Pg.ts lint/style/noRestrictedImports",
    ])
  })

  it("no app imports another app; packages are for sharing", async () => {
    const found = await lint({
      "apps/api/src/a.ts": 'import { x } from "@txn/worker"\n\nexport const all = [x]\n',
      "apps/worker/src/b.ts":
        'import { y } from "@txn/api/src/router.ts"\n\nexport const all = [y]\n',
      "apps/cli/test/c.ts": 'import { z } from "@txn/web"\n\nexport const all = [z]\n',
      "apps/web/src/d.ts": 'import { w } from "@txn/client"\n\nexport const all = [w]\n',
    })
    expect(found).toEqual([
      "apps/api/src/a.ts lint/style/noRestrictedImports",
      "apps/cli/test/c.ts lint/style/noRestrictedImports",
      "apps/worker/src/b.ts lint/style/noRestrictedImports",
    ])
  })

  it("the worker's sources reach the database only through the domain's services", async () => {
    const found = await lint({
      "apps/worker/src/a.ts":
        'import { PgOutbox } from "@txn/db"\n\nexport const all = [PgOutbox]\n',
      "apps/worker/src/jobs/b.ts":
        'import * as SqlClient from "effect/sql/SqlClient"\n\nexport const all = [SqlClient]\n',
      "apps/worker/src/c.ts": 'import { x } from "@txn/api"\n\nexport const all = [x]\n',
      "apps/worker/src/d.ts":
        'import { Outbox } from "@txn/domain"\n\nexport const all = [Outbox]\n',
      // Its tests set up the database they run on.
      "apps/worker/test/e.ts":
        'import { PgOutbox } from "@txn/db"\n\nexport const all = [PgOutbox]\n',
    })
    expect(found).toEqual([
      "apps/worker/src/a.ts lint/style/noRestrictedImports",
      "apps/worker/src/c.ts lint/style/noRestrictedImports",
      "apps/worker/src/jobs/b.ts lint/style/noRestrictedImports",
    ])
  })

  it("only packages/config reads process.env in the sources", async () => {
    const read = "export const port = process.env.PORT\n"
    const found = await lint({
      "packages/config/src/a.ts": read,
      "packages/platform/src/b.ts": read,
      "apps/api/src/c.ts": read,
      // Tests and scripts set up processes with their environment.
      "apps/api/test/d.ts": read,
    })
    expect(found).toEqual([
      "apps/api/src/c.ts lint/style/noProcessEnv",
      "packages/platform/src/b.ts lint/style/noProcessEnv",
    ])
  })

  it("effect is imported by module, never through its index", async () => {
    const found = await lint({
      "packages/domain/src/a.ts":
        'import { Effect } from "effect"\n\nexport const all = [Effect]\n',
      "apps/api/src/b.ts": 'import { Effect } from "effect"\n\nexport const all = [Effect]\n',
    })
    expect(found).toEqual([
      "apps/api/src/b.ts lint/style/noRestrictedImports",
      "packages/domain/src/a.ts lint/style/noRestrictedImports",
    ])
  })
})
