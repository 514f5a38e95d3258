import { randomBytes } from "node:crypto"
import { rm, writeFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"

const clientEntry = fileURLToPath(new URL("../src/index.ts", import.meta.url))

/**
 * Runs a snippet of the README or docs/ as a module written next to this file, importing the client's source for
 * `@txn/client`, and hands its exports to `run`; the file is removed afterwards.
 */
export const asModule = async <A>(
  code: string,
  run: (module: Record<string, unknown>) => Promise<A>,
) => {
  const file = fileURLToPath(
    new URL(`./.readme-${randomBytes(4).toString("hex")}.ts`, import.meta.url),
  )
  await writeFile(file, code.replace('from "@txn/client"', `from ${JSON.stringify(clientEntry)}`))
  try {
    return await run(await import(file))
  } finally {
    await rm(file, { force: true })
  }
}
