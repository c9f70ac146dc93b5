# syntax=docker/dockerfile:1
# The service in a container: build with the dev dependencies, run with the production ones.
#
# Node 26 is the Active LTS line on 2026-12-01 (LTS since 2026-10-28, maintained until
# 2029-04-30); 24 is in Maintenance since 2026-10-20. 26 is also what development and the tests
# run on (the `node` dev dependency pins 26.10.0), so the image runs what was tested. Debian slim
# (glibc): sharp and @node-rs/crc32 install their prebuilt linux-x64/arm64 glibc binaries from
# npm inside each stage, never copied across libcs.
ARG NODE_IMAGE=node:26.10.0-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The lockfile as committed; install scripts as approved in package.json allowScripts.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    UPLOAD_DIR=/data/uploads \
    SPOOL_DIR=/tmp/image-ingest-spool
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only, for this image's platform. No production dependency needs an
# install script (sharp and @node-rs/crc32 come as prebuilt per-platform packages).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /app/dist ./dist
# The upload page at / : its static files and the typed client it runs, as built above.
COPY --from=build /app/public ./public
COPY --from=build /app/clients/typescript/dist ./clients/typescript/dist
RUN mkdir -p /data/uploads && chown node:node /data/uploads
VOLUME ["/data/uploads"]
# The base image's unprivileged `node` user, by number so that runAsNonRoot checks can see it.
USER 1000:1000
EXPOSE 3000
# Slim images have no curl: Node's fetch asks /readyz (503 while starting or draining).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/index.js"]
