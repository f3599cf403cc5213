#!/usr/bin/env bash
# Installs the real servers the data-plane tests start by themselves (test/support/backends.ts) where no Docker engine runs:
#   - RabbitMQ from Debian's rabbitmq-server, without starting the system broker (the tests run private ones on free ports);
#   - FerretDB (MongoDB wire protocol on SQLite) built from the Go module proxy into the tool cache ($TOOLS_BIN/ferretdb).
# Where a Docker engine answers, the tests use testcontainers (mongo:7, rabbitmq:3-management) and nothing is installed.
# Idempotent: whatever is already there at the pinned version is kept.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/ci/lib.sh
source "$HERE/lib.sh"
# shellcheck source=scripts/ci/versions.env
source "$HERE/versions.env"

FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_BIN=$TOOLS_BIN/ferretdb
RABBITMQ_SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server

say() { log install-backends "$@"; }

install_rabbitmq() {
  if [ -x "$RABBITMQ_SERVER" ]; then
    say "rabbitmq-server already installed"
    return
  fi
  if ! command -v dpkg-query >/dev/null; then
    say "rabbitmq-server is missing and this is not a Debian machine: install RabbitMQ 3.x, or set RABBITMQ_CONN, or start a Docker engine"
    return 1
  fi
  say "installing rabbitmq-server from Debian"
  apt_install_no_start rabbitmq-server
  # On a machine booted with systemd the unit would still start at the next boot.
  if [ -d /run/systemd/system ]; then systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true; fi
}

install_ferretdb() {
  if [ -x "$FERRETDB_BIN" ] && "$FERRETDB_BIN" --version 2>/dev/null | grep -q "$FERRETDB_VERSION"; then
    say "ferretdb $FERRETDB_VERSION already at $FERRETDB_BIN"
    return
  fi
  local go
  go=$(find_go) || {
    say "Go is missing: FerretDB $FERRETDB_VERSION needs Go 1.24+ (or any Go >= 1.21 allowed to fetch a newer toolchain)"
    return 1
  }
  say "building ferretdb $FERRETDB_VERSION with $("$go" version)"
  # `go install module@version` first asks the proxy for the module's version list (to check for deprecation), which some
  # proxies refuse; downloading the exact version and building inside the module needs no list and uses its own go.sum.
  local dir work
  dir=$("$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || {
    say "go mod download gave no directory for $FERRETDB_MODULE@$FERRETDB_VERSION"
    return 1
  }
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap must remove this directory even after `work` goes out of scope
  trap "rm -rf '$work'" RETURN
  cp -r "$dir" "$work/src"
  chmod -R u+w "$work/src"
  # The module zip lacks the file that `git describe` fills in a checkout; without it FerretDB panics at start.
  echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  mkdir -p "$TOOLS_BIN"
  (cd "$work/src" && "$go" build -trimpath -ldflags='-s -w' -o "$FERRETDB_BIN.partial" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.partial" "$FERRETDB_BIN"
  say "ferretdb $("$FERRETDB_BIN" --version | head -n 1) at $FERRETDB_BIN"
}

if docker info >/dev/null 2>&1; then
  say "a Docker engine answers: the tests use testcontainers for MongoDB and RabbitMQ, nothing to install"
  exit 0
fi
status=0
install_rabbitmq || status=1
install_ferretdb || status=1
exit "$status"
