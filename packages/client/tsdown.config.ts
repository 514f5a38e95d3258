import { defineConfig } from "tsdown"

/**
 * The published package: one ESM module for browsers, Node >= 20, Deno and Bun, and one
 * declaration file. The router's types come from src/generated/AppRouter.ts, which holds them
 * structurally, so the declarations reach nothing of the server.
 */
export default defineConfig({
  entry: ["src/index.ts"],
  format: "esm",
  platform: "neutral",
  target: "es2022",
  outDir: "dist",
  clean: true,
  dts: true,
  sourcemap: false,
  deps: { neverBundle: [/^@trpc\//] },
})
