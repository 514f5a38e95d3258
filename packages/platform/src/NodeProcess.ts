import { spawn } from "node:child_process"
import { once } from "node:events"
import { join } from "node:path"

/**
 * V8 flags of the API's process, wherever it is started: `npm start` (scripts/run.ts), the
 * bench, the API's own npm scripts, the Dockerfile and docker-compose.yml (a test keeps the copies
 * equal). Node's defaults let the young generation grow to 2 x 64 MB and the old one to a
 * quarter of the machine's memory, so an API whose live heap is ~40 MB held 260-300 MB under
 * load. 8 MB semi-spaces and a 256 MB old generation kept it at ~150 MB; they cost ~0.1-0.3 ms
 * of GC per request (README, Throughput).
 */
export const apiNodeFlags = ["--max-semi-space-size=8", "--max-old-space-size=256"] as const

/**
 * Node's compile cache for processes started from this checkout, unless NODE_COMPILE_CACHE says
 * otherwise. With every module's stripped TypeScript in it, a process never loads Node's
 * TypeScript stripper (a WebAssembly build of swc that keeps 20-40 MB resident for the life of
 * the process once it has run).
 */
export const compileCacheDirectory = (root: string) =>
  // biome-ignore lint/style/noProcessEnv: Node's own setting, read before any config is loaded
  process.env.NODE_COMPILE_CACHE ?? join(root, "node_modules", ".cache", "node-compile-cache")

/**
 * Fills the compile cache for `entry` (relative to `root`) and every module it imports
 * statically, without running it: the process is given an invalid PORT, so its first statement
 * (loading the config) exits once Node has loaded, stripped and cached the whole module graph.
 * Cheap when the cache is already warm; files edited since are stripped again.
 */
export const primeCompileCache = async (
  root: string,
  entry: string,
  nodeFlags: ReadonlyArray<string> = [],
) => {
  const child = spawn(process.execPath, [...nodeFlags, entry], {
    cwd: root,
    // biome-ignore lint/style/noProcessEnv: the child gets this process's environment, unread
    env: { ...process.env, NODE_COMPILE_CACHE: compileCacheDirectory(root), PORT: "0" },
    stdio: "ignore",
  })
  await once(child, "exit")
}
