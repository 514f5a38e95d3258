import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // What the browser shows follows requests to the API: on a busy machine a second is short.
    expect: { poll: { timeout: 10_000 } },
  },
})
