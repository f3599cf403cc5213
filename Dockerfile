# syntax=docker/dockerfile:1
# One image for every role: the role is chosen at run time by the ROLE environment variable (see deploy/base/generated/).
#
#   docker build -t greeting-mesh .                                      the production image (the last stage), for this machine
#   docker build --platform linux/arm64 -t greeting-mesh .               for arm64 nodes (Apple Silicon, Graviton, Axion, T2A)
#   docker buildx build --platform linux/amd64,linux/arm64 -t ... --push .   both, as one multi-platform image
#   docker build --target dev -t greeting-mesh:dev .                     Bun and the sources, for Tilt's live update (`tilt up -- --live`)
#
# The binary is compiled on the builder's own platform (BUILDPLATFORM) for the target's (TARGETARCH): Bun cross-compiles, so
# an arm64 image builds on an amd64 machine without emulation, and only the runtime stage is of the target platform.

# The single binary: the Bun runtime, the code, its dependencies and config/services.json in one executable. Dependencies are
# exactly as package-lock.json pins them (Bun reads npm's lockfile; --frozen-lockfile fails instead of updating it), including
# the target's Bun runtime (@oven/bun-linux-*), which the cross-compile embeds: pinned and checksummed like every other
# package, not downloaded by the compiler. It is compiled by the script `npm run build:binary` runs (scripts/build/binary.ts
# says how and why), with the target and the runtime of the image's platform as its only arguments.
FROM --platform=$BUILDPLATFORM oven/bun:1.4.5 AS build
ARG TARGETARCH
WORKDIR /src
COPY package.json package-lock.json ./
RUN case "$TARGETARCH" in amd64) cpu=x64 ;; arm64) cpu=arm64 ;; *) echo "unsupported TARGETARCH '$TARGETARCH'" >&2; exit 1 ;; esac && \
    bun install --frozen-lockfile --production --ignore-scripts --os=linux --cpu="$cpu"
COPY tsconfig.json ./
COPY config ./config
COPY src ./src
COPY scripts/build/binary.ts ./scripts/build/
COPY scripts/build/substitutes ./scripts/build/substitutes
RUN case "$TARGETARCH" in amd64) arch=x64 runtime=bun-linux-x64 ;; arm64) arch=arm64 runtime=bun-linux-aarch64 ;; esac && \
    bun scripts/build/binary.ts --target="bun-linux-$arch" --executable-path="node_modules/@oven/$runtime/bin/bun" \
      --outfile /out/greeting-mesh

# The development stage, of the target platform: runs the TypeScript sources, which Tilt syncs in and Bun's --watch reloads,
# with no image rebuild. The sources belong to the runtime user so the sync can overwrite them; the transpiler cache is off
# (there is no home to put it in).
FROM oven/bun:1.4.5 AS dev
WORKDIR /src
COPY package.json package-lock.json ./
RUN bun install --frozen-lockfile --production --ignore-scripts
COPY --chown=65532:65532 tsconfig.json ./
COPY --chown=65532:65532 config ./config
COPY --chown=65532:65532 src ./src
USER 65532:65532
ENV PORT=8080 BUN_RUNTIME_TRANSPILER_CACHE_PATH=0
EXPOSE 8080
ENTRYPOINT ["bun", "--watch", "src/service.ts"]

# The production stage: glibc and CA certificates, no shell, no package manager; a numeric non-root user so the kubelet can
# verify runAsNonRoot. The distroless image is multi-platform: this stage is of the target's.
FROM gcr.io/distroless/base-debian12:nonroot AS runtime
COPY --from=build /out/greeting-mesh /app/greeting-mesh
USER 65532:65532
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/app/greeting-mesh"]
