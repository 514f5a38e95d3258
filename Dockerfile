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
    LOG_LEVEL=info
COPY --from=deps /app ./
COPY apps ./apps
COPY packages ./packages
COPY tooling ./tooling
USER node
EXPOSE 3000
# The same image runs the worker and migrations with another command.
CMD ["node", "apps/api/src/main.ts"]
