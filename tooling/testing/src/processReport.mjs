/**
 * Test-only: preloaded with `--import` (through NODE_OPTIONS, so every Node process a command
 * starts gets it), it writes, when the process exits, what it started with to
 * `$TXN_PROCESS_REPORT_DIR/<pid>.json`: its entry file, exit code, Node flags, heap limit, the modules it
 * resolved, and whether Node's TypeScript stripper was loaded. JavaScript, not TypeScript: a
 * TypeScript preload would load the stripper itself.
 */
import { writeFileSync } from "node:fs"
import { registerHooks } from "node:module"
import { join } from "node:path"
import { getHeapStatistics } from "node:v8"

const directory = process.env.TXN_PROCESS_REPORT_DIR
if (directory !== undefined && directory !== "") {
  const modules = new Set()
  registerHooks({
    resolve: (specifier, context, nextResolve) => {
      const resolved = nextResolve(specifier, context)
      modules.add(resolved.url)
      return resolved
    },
  })
  process.once("exit", (code) => {
    writeFileSync(
      join(directory, `${process.pid}.json`),
      JSON.stringify({
        entry: process.argv[1],
        code,
        execArgv: process.execArgv,
        heapSizeLimit: getHeapStatistics().heap_size_limit,
        typeScriptStripperLoaded: process.moduleLoadList.some((name) =>
          name.includes("internal/deps/amaro"),
        ),
        modules: [...modules],
      }),
    )
  })
}
