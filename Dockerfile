# Lilium's production image: Node 24 (LTS) on Debian 13 "trixie", whose glibc 2.41 loads the
# @btc-vision/uwebsockets.js build (its Node 22 and 24 binaries need glibc 2.38 or later; the
# Node 20 build would fit Debian 12, but Node 20 is past its end of life). See "Supported runtimes"
# in the README. docker-compose.yml builds it; `docker build -t lilium .` works alone too.

FROM node:24-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# protocol/ is a workspace of the root package (@lilium/protocol): npm ci needs its manifest.
COPY protocol/package.json ./protocol/
# Production dependencies only (TypeScript among them: the build stage below compiles the server).
# Of the two uWebSockets.js builds only the binary this image's Node loads is kept (the others,
# about 220 MB, are for other systems and Node lines).
RUN npm ci --omit=dev --no-audit --no-fund \
  && find node_modules -name 'uws_*.node' ! -name "uws_linux_$(node -p process.arch)_$(node -p process.versions.modules).node" -delete

# The server compiled to plain JavaScript, as `npm start` runs it (`npm run build`: tsc, a production
# dependency, into dist/): no loader and no transformed second copy of each module in the server's
# memory. Only dist/ leaves this stage.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY protocol ./protocol
COPY db ./db
COPY server ./server
RUN npm run build

FROM node:24-trixie-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 UPLOAD_DIR=/data/uploads PGLITE_DIR=/data/pglite
WORKDIR /app
# The code belongs to root, read-only for the server, which runs as the image's `node` user
# (uid 1000); it writes only under /data (uploads, and the embedded database when no DATABASE_URL).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The sources stay for `npm run db` (the database CLI runs through tsx, see docker-compose.yml).
COPY package.json package-lock.json tsconfig.json ./
COPY protocol ./protocol
COPY db ./db
COPY server ./server
RUN mkdir -p /data/uploads && chown -R node:node /data
USER node
EXPOSE 3000
# Liveness only (the process answers); docker-compose.yml checks /ready, which also needs the database.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server/main.js"]
