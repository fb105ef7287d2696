# syntax=docker/dockerfile:1.7
# wicked's one image. Every component runs from it: `wicked <operator|webhooks|portal-api|portal-ui|auth-server>`
# (the chart passes the component as the container's args).
#
# TypeScript is compiled at build time (tsc with rewriteRelativeImportExtensions turns `./x.ts` imports into
# `./x.js`), so the image runs plain `node` with production dependencies only: no tsx (a devDependency), no
# compile step at start, and a read-only root file system works.
#
# Release builds pin the base image by digest: --build-arg NODE_IMAGE=node:24.22.3-trixie-slim@sha256:<digest>.
ARG NODE_IMAGE=node:24.22.3-trixie-slim

# Production dependencies exactly as locked. Install scripts are not run: no production dependency needs one.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Type-check and compile. A type error fails the build.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node_modules/.bin/tsc -p tsconfig.json --noEmit false --outDir /out --rewriteRelativeImportExtensions \
      --sourceMap --declaration false \
 && rm -rf /out/test /out/bench /out/hack /out/charts /out/vitest.config.js /out/vitest.config.js.map \
 && find /out \( -name '*.test.js' -o -name '*.test.js.map' -o -name 'testing.js' -o -name 'testing.js.map' \) -delete \
 && for dir in api bin db operator webhooks portal-api portal-ui auth-server; do \
      [ -d "$dir" ] && find "$dir" -type f ! -name '*.ts' ! -name '*.md' -exec cp --parents {} /out/ \; ; \
    done; \
    rm -f /out/bin/wicked

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="wicked" \
      org.opencontainers.image.description="Kubernetes-native API portal and API-management operator" \
      org.opencontainers.image.source="https://github.com/wicked-dev/wicked" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed non-root user, matching the chart's runAsUser, with a passwd entry (os.userInfo() needs one).
RUN groupadd --gid 10001 wicked \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin wicked
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# package.json carries "type": "module", which makes the compiled .js files ES modules.
COPY --from=deps /src/package.json ./package.json
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /out ./
USER 10001:10001
# operator: 8080 metrics, 8081 health; webhooks: 9443; portal-ui 3000, portal-api 3001, auth-server 3010.
EXPOSE 8080 8081 9443 3000 3001 3010
ENTRYPOINT ["node", "/app/bin/wicked.js"]
