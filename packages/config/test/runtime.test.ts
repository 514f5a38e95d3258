import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"

describe("runtime", () => {
  it("runs the tests on Node 24", () => {
    expect(process.versions.node.split(".")[0]).toBe("24")
  })

  it("puts Node 24 first on PATH for npm scripts, whatever node the machine has", () => {
    expect(execFileSync("node", ["--version"], { encoding: "utf8" }).trim()).toMatch(/^v24\./)
  })
})
