/**
 * The README and the pages of docs/ as something to run, read as one text in `docPaths`' order.
 * Each fenced `sh` or `ts` block carries, on the line before it, a marker saying where it runs:
 *
 * - `<!-- run: smoke -->`: `npm run smoke` runs its commands against the `npm start` it drives;
 * - `<!-- run: test <id> -->`: a test reads it with `readmeSnippet("<id>")` and runs it;
 * - `<!-- run: elsewhere -->`: each of its commands runs elsewhere (CI, or the smoke) as written;
 * - `<!-- run: never: <why> -->`: it cannot run here, and why.
 *
 * Commands quoted inline (`npm run dev`) run in the smoke too, unless CI runs them or they are
 * listed below with a reason. `packages/client/test/readme.test.ts` checks all of this.
 */
import { readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
export const readmePath = join(root, "README.md")

/**
 * The README, then the pages of docs/ in the order a reader meets them (the order the smoke runs
 * their commands in: a later page may use what an earlier one made).
 */
export const docPaths = [
  "README.md",
  ...[
    "dashboard",
    "client",
    "rest",
    "auth",
    "live",
    "operations",
    "background",
    "exports",
    "performance",
    "cli",
    "configuration",
    "deployment",
  ].map((page) => `docs/${page}.md`),
].map((path) => join(root, path))

/** The README and the pages of docs/, one after the other. */
export const readDocs = () => docPaths.map((path) => readFileSync(path, "utf8")).join("\n")

/** Which file and line of it a line of `readDocs()`'s text is, e.g. `docs/rest.md:12`. */
export const locate = (line: number) => {
  let first = 1
  for (const path of docPaths) {
    const lines = readFileSync(path, "utf8").split("\n").length
    if (line < first + lines) return `${relative(root, path)}:${line - first + 1}`
    first += lines
  }
  return `line ${line}`
}
export const ciScriptPath = fileURLToPath(new URL("../.ci/run", import.meta.url))

export interface ReadmeBlock {
  readonly lang: string
  readonly code: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** What the marker says, e.g. `smoke`, `test frontend`; undefined without one. */
  readonly run: string | undefined
}

export const readmeBlocks = (text = readDocs()): Array<ReadmeBlock> => {
  const lines = text.split("\n")
  const blocks: Array<ReadmeBlock> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!)
    if (open === null) continue
    const end = lines.findIndex((line, j) => j > i && /^```\s*$/.test(line))
    if (end === -1) break
    const marker = /^<!-- run: (.+?) -->$/.exec(lines[i - 1] ?? "")
    blocks.push({
      lang: open[1]!,
      code: lines.slice(i + 1, end).join("\n"),
      line: i + 1,
      run: marker?.[1],
    })
    i = end
  }
  return blocks
}

/** The one block a test runs, by the id in its `<!-- run: test <id> -->` marker. */
export const readmeSnippet = (id: string, text?: string) => {
  const found = readmeBlocks(text).filter((block) => block.run === `test ${id}`)
  if (found.length !== 1) throw new Error(`README has ${found.length} blocks marked "test ${id}"`)
  return found[0]!.code
}

/**
 * A block's shell commands: continued lines joined, comments (after whitespace) and blank lines
 * dropped.
 */
export const commandsOf = (code: string): Array<string> =>
  code
    .replace(/\s*\\\n\s*/g, " ")
    .split("\n")
    .map((line) => line.replace(/(^|\s+)#(\s.*)?$/, "").trim())
    .filter((line) => line !== "")

/** A command quoted inline in the README's prose or tables, with where it stands. */
export interface InlineCommand {
  readonly command: string
  readonly index: number
}

const commandStart =
  /^(?:env(?: -u \S+)* )?(?:[A-Z_]+=\S* )*(?:npm|node|psql|curl|docker|openssl) \S/

export const inlineCommands = (text = readDocs()): Array<InlineCommand> => {
  const prose = text.replace(/^```[\s\S]*?^```/gm, (block) => " ".repeat(block.length))
  return [...prose.matchAll(/`([^`]+)`/g)]
    .map((match) => ({ command: match[1]!.replace(/\s+/g, " ").trim(), index: match.index }))
    .filter(({ command }) => commandStart.test(command) && !/<[^>]*>|…/.test(command))
}

/**
 * Commands that keep running: the smoke starts each, waits for what it prints once ready, then
 * stops it as Ctrl-C does. `npm start` is the smoke's own main run.
 */
export const longRunning: Readonly<Record<string, string>> = {
  "npm start": "Transaction API ready at",
  "npm run dev": "Transaction API ready at",
  "npm start -w @txn/api": '"msg":"api listening"',
  "npm start -w @txn/worker": '"msg":"worker started"',
  "NODE_ENV=production npm start": "No demo API key (NODE_ENV=production)",
}

/** Inline commands that run nowhere as written, and why. */
export const notRun: Readonly<Record<string, string>> = {
  "npm run -s": "a flag of npm, shown running in the CLI's --json block",
  "npm run txn": "the CLI's entry, shown running with each of its commands in the CLI's blocks",
  "node --watch": "what `npm run dev` runs the API and the worker with",
  "npm run format": "rewrites files; `npm run lint` in CI checks the same formatting",
  "npm test -- --filter=@txn/api": "one workspace of `npm test`, which CI runs whole",
  "openssl rand -base64 32": "runs in the Authentication block, which the smoke runs",
}

/**
 * Whether `.ci/run` runs this command as written: as a line, as a part of one joined by `&&`, or
 * with settings before it; a command joined by `&&` itself, if CI runs each of its parts.
 */
export const inCi = (command: string, script = readFileSync(ciScriptPath, "utf8")): boolean => {
  const parts = command.split(/\s*&&\s*/)
  if (parts.length > 1) return parts.every((part) => inCi(part, script))
  return script.split("\n").some((line) =>
    line
      .replace(/#.*$/, "")
      .trim()
      .split(/\s*&&\s*/)
      .some(
        (part) =>
          part === command ||
          part.replace(/^env(?: -u \S+)* /, "").replace(/^(?:[A-Z_]+=\S* )+/, "") === command,
      ),
  )
}

/**
 * The inline commands the smoke runs to their end: all but those CI runs, those that keep running,
 * those listed as not run, and those a block the smoke runs, or that never runs, shows too.
 */
export const smokeInlineCommands = (text = readDocs()) => {
  const inBlocks = new Set(
    readmeBlocks(text)
      .filter((block) => block.run === "smoke" || block.run?.startsWith("never: "))
      .flatMap((block) => commandsOf(block.code)),
  )
  return inlineCommands(text).filter(
    ({ command }) =>
      !inCi(command) && !(command in longRunning) && !(command in notRun) && !inBlocks.has(command),
  )
}
