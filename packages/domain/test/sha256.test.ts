import { describe, expect, it } from "vitest"
import { sha256Hex } from "../src/index.ts"

describe("sha256Hex, what a key's secret is stored as", () => {
  it("hashes with SHA-256", async () => {
    expect(await sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
  })
})
