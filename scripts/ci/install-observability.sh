#!/usr/bin/env bash
# Installs the real observability backends the tests run (test/support/jaeger.ts, test/support/prometheus.ts) and the Compose
# implementation that validates deploy/compose/compose.yaml without an engine (test/cluster/compose.test.ts):
#   - Jaeger all-in-one: `cmd/jaeger` of github.com/jaegertracing/jaeger v1.76.0 (the Go module's version of the Jaeger v2.13.0
#     release), built from the Go module proxy into $TOOLS_BIN/jaeger;
#   - Prometheus and promtool from Debian's `prometheus` package (2.42), without starting a system Prometheus;
#   - Docker Compose v2.40.3 (github.com/docker/compose/v2), built from the Go module proxy into $TOOLS_BIN/docker-compose.
# Idempotent: a cached binary is kept only when it runs and reports the pinned version; anything else is rebuilt.
set -euo pipefail

# shellcheck source=scripts/ci/lib.sh
source "$(dirname "$0")/lib.sh"

JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_MODULE_VERSION=v1.76.0
# What upstream's release build stamps into this module version's cmd/jaeger (its CHANGELOG: "v1.76.0 / v2.13.0").
JAEGER_VERSION=v2.13.0
COMPOSE_MODULE=github.com/docker/compose/v2
COMPOSE_VERSION=v2.40.3
PROMETHEUS_MIN_VERSION=2.42

name=install-observability

# go_build_module MODULE VERSION PACKAGE OUTPUT LDFLAGS: builds PACKAGE (relative to the module root) of MODULE@VERSION into
# OUTPUT. `go install module@version` refuses a module whose go.mod has replace directives (Jaeger's has one); downloading the
# exact version and building inside it honours them and its own go.sum, and the checksum database still verifies the download.
# Only the one command is built, stripped and without local paths, to keep the cold build inside CI's budget.
go_build_module() {
  local module=$1 version=$2 package=$3 output=$4 ldflags=$5 go dir started
  go=$(find_go) || {
    log "$name" "Go is missing: building $module@$version needs Go 1.24+ (or any Go >= 1.21 allowed to fetch a newer toolchain)"
    return 1
  }
  started=$SECONDS
  dir=$("$go" mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || {
    log "$name" "go mod download gave no directory for $module@$version"
    return 1
  }
  mkdir -p "$(dirname "$output")"
  log "$name" "building $module@$version ($package) with $("$go" version)"
  # The module cache is read-only: the build writes only into Go's build cache and the output file. Its output (hundreds of
  # "go: downloading" lines on a cold cache) is shown only when the build fails.
  local output_log
  output_log=$(mktemp)
  if ! (cd "$dir" && "$go" build -trimpath -ldflags="-s -w $ldflags" -o "$output.partial" "$package") >"$output_log" 2>&1; then
    tail -n 30 "$output_log" >&2
    rm -f "$output_log" "$output.partial"
    log "$name" "building $module@$version failed"
    return 1
  fi
  rm -f "$output_log"
  mv "$output.partial" "$output"
  log "$name" "built $(basename "$output") in $((SECONDS - started)) s"
}

# has_version BINARY PATTERN ARGS...: the binary runs and its output contains PATTERN.
has_version() {
  local binary=$1 pattern=$2
  shift 2
  [ -x "$binary" ] && "$binary" "$@" 2>&1 | grep -qF -- "$pattern"
}

install_jaeger() {
  local bin=$TOOLS_BIN/jaeger
  if has_version "$bin" "\"gitVersion\":\"$JAEGER_VERSION\"" version; then
    log "$name" "jaeger $JAEGER_VERSION already at $bin"
    return
  fi
  go_build_module "$JAEGER_MODULE" "$JAEGER_MODULE_VERSION" ./cmd/jaeger "$bin" \
    "-X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_VERSION"
  has_version "$bin" "\"gitVersion\":\"$JAEGER_VERSION\"" version || {
    log "$name" "$bin does not report $JAEGER_VERSION after the build"
    return 1
  }
}

install_compose() {
  local bin=$TOOLS_BIN/docker-compose
  if has_version "$bin" "$COMPOSE_VERSION" version; then
    log "$name" "docker-compose $COMPOSE_VERSION already at $bin"
    return
  fi
  go_build_module "$COMPOSE_MODULE" "$COMPOSE_VERSION" ./cmd "$bin" "-X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION"
  has_version "$bin" "$COMPOSE_VERSION" version || {
    log "$name" "$bin does not report $COMPOSE_VERSION after the build"
    return 1
  }
}

install_prometheus() {
  apt_install_no_start prometheus
  # On a machine booted with systemd the unit would still start at the next boot; the tests run private instances.
  if [ -d /run/systemd/system ] && [ "$(id -u)" -eq 0 ]; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
  local version
  version=$(prometheus --version 2>&1 | sed -n 's/^prometheus, version \([0-9.]*\).*/\1/p')
  if [ -z "$version" ] || [ "$(printf '%s\n%s\n' "$PROMETHEUS_MIN_VERSION" "$version" | sort -V | head -n1)" != "$PROMETHEUS_MIN_VERSION" ]; then
    log "$name" "prometheus on PATH reports '${version:-nothing}', want $PROMETHEUS_MIN_VERSION or newer"
    return 1
  fi
  command -v promtool >/dev/null || {
    log "$name" "promtool is missing next to prometheus $version"
    return 1
  }
  log "$name" "prometheus $version and promtool at $(command -v prometheus), $(command -v promtool)"
}

# Each tool on its own: a machine where one cannot be installed (no root for apt, no Go) still gets the others. Every step
# that can fail inside them is checked explicitly (errexit does not apply to a function called before `||`).
failed=0
install_prometheus || { log "$name" "prometheus is not installed"; failed=1; }
install_jaeger || { log "$name" "jaeger is not installed"; failed=1; }
install_compose || { log "$name" "docker-compose is not installed"; failed=1; }
exit "$failed"
