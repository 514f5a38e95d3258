/**
 * `npm run bench [-- <scenario> ...]`: runs the named benchmark scenarios of scripts/bench/, or all
 * of them, one after another, and prints their figures. Each scenario starts what it needs and
 * stops it again; none is a test (figures depend on the machine), so none fails on a slow one.
 */
const scenarios: Record<string, () => Promise<void>> = {
  flood: () => import("./bench/flood.ts").then((scenario) => scenario.run()),
  createMany: () => import("./bench/createMany.ts").then((scenario) => scenario.run()),
}

const names = process.argv.slice(2)
const unknown = names.filter((name) => !Object.hasOwn(scenarios, name))
if (unknown.length > 0) {
  console.error(
    `Unknown scenario ${unknown.join(", ")}; known: ${Object.keys(scenarios).join(", ")}`,
  )
  process.exit(2)
}
for (const name of names.length > 0 ? names : Object.keys(scenarios)) {
  console.log(`\n== ${name}`)
  await scenarios[name]?.()
}
