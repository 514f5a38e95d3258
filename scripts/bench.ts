/**
 * `npm run bench [-- <scenario> ...] [--seconds N] [--rounds N]`: runs the named benchmark
 * scenarios of scripts/bench/, or all of them, one after another, and prints their figures.
 * `--seconds` (per system and round, default 4) and `--rounds` (default 3) size the throughput
 * scenario's loads, and the worker scenario's. Each scenario starts what it needs and stops it again; none is a test (figures
 * depend on the machine), so none fails on a slow one.
 */
import { parseArgs } from "node:util"

const usage = `Usage: npm run bench [-- <scenario> ...] [--seconds <n>] [--rounds <n>]
  scenarios   flood, throughput, createMany, worker, relay, live, cache, replicas (default: all)
  --seconds   seconds per system and round of each throughput, cache and replicas load, and of each worker load (default 4)
  --rounds    rounds of each throughput, cache and replicas load and of the worker's trivial jobs, the systems alternating (default 3)
  --loads     the throughput loads to run, comma-separated: list-10k, list-100k, create, create-hot (default: all)`

const fail = (message: string): never => {
  console.error(`${message}\n\n${usage}`)
  return process.exit(2)
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      options: {
        seconds: { type: "string", default: "4" },
        rounds: { type: "string", default: "3" },
        loads: { type: "string" },
        help: { type: "boolean", default: false },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()
if (values.help) {
  console.log(usage)
  process.exit(0)
}

const integer = (name: string, text: string, max: number) => {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value < 1 || value > max)
    return fail(`Invalid --${name} ${JSON.stringify(text)}: expected an integer from 1 to ${max}`)
  return value
}
const options = {
  seconds: integer("seconds", values.seconds, 3_600),
  rounds: integer("rounds", values.rounds, 100),
  loads: values.loads?.split(",").filter((name) => name !== ""),
}

const scenarios: Record<string, () => Promise<void>> = {
  flood: () => import("./bench/flood.ts").then((scenario) => scenario.run()),
  throughput: () => import("./bench/throughput.ts").then((scenario) => scenario.run(options)),
  createMany: () => import("./bench/createMany.ts").then((scenario) => scenario.run()),
  worker: () => import("./bench/worker.ts").then((scenario) => scenario.run(options)),
  relay: () => import("./bench/relay.ts").then((scenario) => scenario.run(options)),
  live: () => import("./bench/live.ts").then((scenario) => scenario.run()),
  cache: () => import("./bench/cache.ts").then((scenario) => scenario.run(options)),
  replicas: () => import("./bench/replicas.ts").then((scenario) => scenario.run(options)),
}

const unknown = positionals.filter((name) => !Object.hasOwn(scenarios, name))
if (unknown.length > 0)
  fail(`Unknown scenario ${unknown.join(", ")}; known: ${Object.keys(scenarios).join(", ")}`)
for (const name of positionals.length > 0 ? positionals : Object.keys(scenarios)) {
  console.log(`\n== ${name}`)
  await scenarios[name]?.()
}
