# syntax=docker/dockerfile:1
# One image for every role: the role is chosen at run time by the ROLE environment variable (see deploy/base/generated/).
#
#   docker build -t greeting-mesh .                      the production image (the last stage)
#   docker build --target dev -t greeting-mesh:dev .     Bun and the sources, for Tilt's live update (`tilt up -- --live`)

# Dependencies, exactly as package-lock.json pins them (Bun reads npm's lockfile; --frozen-lockfile fails instead of updating it).
FROM oven/bun:1.4.5 AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production --ignore-scripts

# The single binary: the Bun runtime, the code, its dependencies and config/services.json in one executable. It must not pick up
# a stray .env or bunfig.toml at run time, so the two autoloads are off; --bytecode halves the start-up time.
FROM deps AS build
COPY tsconfig.json ./
COPY config ./config
COPY src ./src
RUN bun build src/service.ts --compile --minify --bytecode --format=esm \
      --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
      --outfile /out/greeting-mesh

# The development stage: runs the TypeScript sources, which Tilt syncs in and Bun's --watch reloads, with no image rebuild.
# The sources belong to the runtime user so the sync can overwrite them; the transpiler cache is off (there is no home to put it in).
FROM deps AS dev
COPY --chown=65532:65532 tsconfig.json ./
COPY --chown=65532:65532 config ./config
COPY --chown=65532:65532 src ./src
USER 65532:65532
ENV PORT=8080 BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
EXPOSE 8080
ENTRYPOINT ["bun", "--watch", "src/service.ts"]

# The production stage: glibc and CA certificates, no shell, no package manager; a numeric non-root user so the kubelet can
# verify runAsNonRoot.
FROM gcr.io/distroless/base-debian12:nonroot AS runtime
COPY --from=build /out/greeting-mesh /app/greeting-mesh
USER 65532:65532
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/app/greeting-mesh"]
