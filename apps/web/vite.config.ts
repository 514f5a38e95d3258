import { fileURLToPath } from "node:url"
import react from "@vitejs/plugin-react"
import { defineConfig } from "vite"

/** The API the dev server passes `/trpc` and `/v1` to (npm run dev starts it on port 3000). */
const api = process.env.TXN_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? "3000"}`

/**
 * The dashboard, served by the API under /app: content-hashed assets (cached for a year), one
 * index.html (never cached). `npm run dev` serves it from Vite on port 5173 instead, with the API
 * behind it on the same origin.
 */
export default defineConfig({
  base: "/app/",
  plugins: [react()],
  resolve: {
    // The client's sources rather than its build, so the dashboard always has the current one.
    alias: {
      "@txn/client": fileURLToPath(new URL("../../packages/client/src/index.ts", import.meta.url)),
    },
  },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600 },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: { "/trpc": api, "/v1": api },
  },
})
