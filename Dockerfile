# syntax=docker/dockerfile:1

FROM node:24-bookworm-slim AS base
WORKDIR /app

# Only the manifests, so the dependency layer is rebuilt when they change, not on every source edit.
FROM base AS manifests
COPY apps ./apps
COPY packages ./packages
COPY tooling ./tooling
RUN mkdir /manifests \
 && find apps packages tooling -name package.json -not -path '*/node_modules/*' \
      -exec cp --parents {} /manifests \;

FROM base AS deps
COPY package.json package-lock.json .npmrc ./
COPY --from=manifests /manifests ./
# Containers always get DATABASE_URL, so the embedded PostgreSQL (optional) stays out.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_LEVEL=info \
    NODE_COMPILE_CACHE=/app/.cache/node-compile-cache
COPY --from=deps /app ./
COPY apps ./apps
COPY packages ./packages
COPY tooling ./tooling
RUN mkdir -p "$NODE_COMPILE_CACHE" && chown node:node "$NODE_COMPILE_CACHE"
USER node
# Every module's TypeScript stripped once, here, as the user that runs it (Node keeps a cache per
# user): the processes then never load Node's stripper, which would stay resident in each. An
# invalid PORT makes each entry exit at its first statement, once its whole module graph is loaded
# and cached (the API with its own V8 flags, as in CMD).
RUN for entry in "--max-semi-space-size=8 --max-old-space-size=256 apps/api/src/main.ts" \
      apps/worker/src/main.ts packages/db/src/bin/migrate.ts; do \
      PORT=0 node $entry >/dev/null 2>&1 || true; \
    done \
 && test -n "$(ls -A "$NODE_COMPILE_CACHE")"
EXPOSE 3000
# The same image runs the worker and migrations with another command.
# The API's V8 flags bound its heap (packages/platform/src/NodeProcess.ts says why).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=256", "apps/api/src/main.ts"]
