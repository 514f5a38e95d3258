import { defineConfig } from "vitest/config"

export default defineConfig({
  // A test runs the CLI up to five times, a process each: seconds apiece while the other
  // packages' tests share the machine.
  test: { include: ["test/**/*.test.ts"], testTimeout: 90_000, hookTimeout: 60_000 },
})
