import { describe, expect, it } from "vitest"
import { hashSecret } from "../src/index.ts"

describe("hashSecret", () => {
  it("hashes with SHA-256", async () => {
    expect(await hashSecret("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
  })
})
