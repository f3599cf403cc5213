#!/usr/bin/env bash
# Installs the real servers the data-plane tests start by themselves (test/support/backends.ts), on a fresh Debian machine:
#   - RabbitMQ from Debian's rabbitmq-server, without starting the system broker (the tests run private ones on free ports);
#   - FerretDB (MongoDB wire protocol on SQLite) built from the Go module proxy into .cache/bin/ferretdb.
# Idempotent: whatever is already there is kept. Safe to run again on every CI run.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2
FERRETDB_BIN=${FERRETDB_BIN:-$ROOT/.cache/bin/ferretdb}
RABBITMQ_SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server

log() { echo "install-backends: $*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_rabbitmq() {
  if [ -x "$RABBITMQ_SERVER" ]; then
    log "rabbitmq-server already installed"
    return
  fi
  log "installing rabbitmq-server from Debian"
  # The package starts the system broker on install; policy-rc.d answering 101 ("action forbidden") stops that. An existing
  # policy (containers ship one) is left as it is.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created=1
  fi
  local status=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server ||
    { as_root apt-get update && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rabbitmq-server; } ||
    status=$?
  if [ "$created" -eq 1 ]; then as_root rm -f "$policy"; fi
  [ "$status" -eq 0 ] || return "$status"
  # On a machine booted with systemd the unit would still start at the next boot.
  if [ -d /run/systemd/system ]; then as_root systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true; fi
}

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

install_ferretdb() {
  if [ -x "$FERRETDB_BIN" ] && "$FERRETDB_BIN" --version 2>/dev/null | grep -q "$FERRETDB_VERSION"; then
    log "ferretdb $FERRETDB_VERSION already at $FERRETDB_BIN"
    return
  fi
  local go
  go=$(find_go) || {
    log "Go is missing: FerretDB $FERRETDB_VERSION needs Go 1.24+ (or any Go >= 1.21 allowed to fetch a newer toolchain)"
    return 1
  }
  log "building ferretdb $FERRETDB_VERSION with $("$go" version)"
  # `go install module@version` first asks the proxy for the module's version list (to check for deprecation), which some
  # proxies refuse; downloading the exact version and building inside the module needs no list and uses its own go.sum.
  local dir work
  dir=$("$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || {
    log "go mod download gave no directory for $FERRETDB_MODULE@$FERRETDB_VERSION"
    return 1
  }
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the trap must remove this directory even after `work` goes out of scope
  trap "rm -rf '$work'" RETURN
  cp -r "$dir" "$work/src"
  chmod -R u+w "$work/src"
  # The module zip lacks the file that `git describe` fills in a checkout; without it FerretDB panics at start.
  echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$work/src" && "$go" build -trimpath -o "$FERRETDB_BIN.partial" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.partial" "$FERRETDB_BIN"
  log "ferretdb $("$FERRETDB_BIN" --version | head -n 1) at $FERRETDB_BIN"
}

install_rabbitmq
install_ferretdb
