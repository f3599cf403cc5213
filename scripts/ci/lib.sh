#!/usr/bin/env bash
# Shared by the installers in scripts/ci/: where built tools are cached, how Debian packages are installed, where Go is.
# Sourced, never run. Every installer is idempotent: a tool already in the cache at the pinned version is kept.

# Built tools live outside the clone, so a later run on the same machine (another clone, CI) finds them.
TOOLS_DIR=${GREETING_MESH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/greeting-mesh}
TOOLS_BIN=$TOOLS_DIR/bin
export TOOLS_DIR TOOLS_BIN

# log NAME MESSAGE...: one line, prefixed with the installer's name.
log() {
  local name=$1
  shift
  echo "$name: $*"
}

# apt_install PACKAGE...: installs Debian packages that are missing. As root it does it (updating the package lists once when a
# package is not found); otherwise it prints the exact command to run and fails.
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]}; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
}

# apt_install_no_start PACKAGE...: as apt_install, for packages whose install would start a system daemon (rabbitmq-server,
# etcd-server, prometheus): policy-rc.d answering 101 ("action forbidden") stops that; the tests run private instances.
apt_install_no_start() {
  local policy=/usr/sbin/policy-rc.d created=0 status=0
  if [ "$(id -u)" -eq 0 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created=1
  fi
  apt_install "$@" || status=$?
  [ "$created" -eq 1 ] && rm -f "$policy"
  return "$status"
}

# find_go: prints the path of the go command, or fails.
find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}
