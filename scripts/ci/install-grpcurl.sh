#!/usr/bin/env bash
# Installs grpcurl, the gRPC command-line client the gRPC tests use for reflection (`list`, `describe`) and calls, and does
# nothing when the tool cache already holds the pinned version. Built from its Go module (no prebuilt download), with the
# version stamped in, so `grpcurl -version` tells which build is cached. Prints the path of the binary on its last line.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/ci/lib.sh
source "$HERE/lib.sh"
# shellcheck source=scripts/ci/versions.env
source "$HERE/versions.env"
GRPCURL_MODULE=github.com/fullstorydev/grpcurl/cmd/grpcurl

bin=$TOOLS_BIN/grpcurl
# `grpcurl -version` prints "grpcurl v1.9.4" for a build stamped as below; anything else (an older pin, an unstamped
# build, a broken file) is rebuilt.
if [ -x "$bin" ] && [ "$("$bin" -version 2>&1)" = "grpcurl $GRPCURL_VERSION" ]; then
  echo "install-grpcurl: grpcurl $GRPCURL_VERSION already in $TOOLS_BIN"
  echo "$bin"
  exit 0
fi

go=$(find_go) || { echo "install-grpcurl: Go is missing (apt-get install golang-go, or put go on PATH)" >&2; exit 1; }
mkdir -p "$TOOLS_BIN"
# Built into a private folder and moved into place in one rename, so a concurrent run, or one cut short, never leaves a
# half-written binary where the tests look.
build=$(mktemp -d "$TOOLS_BIN/.grpcurl-build.XXXXXX")
trap 'rm -rf "$build"' EXIT
started=$(date +%s)
GOBIN=$build CGO_ENABLED=0 GOFLAGS=-mod=mod "$go" install -trimpath -ldflags "-s -w -X main.version=$GRPCURL_VERSION" \
  "$GRPCURL_MODULE@$GRPCURL_VERSION"
mv -f "$build/grpcurl" "$bin"
echo "install-grpcurl: built $("$bin" -version 2>&1) with $("$go" env GOVERSION) in $(($(date +%s) - started)) s, into $TOOLS_BIN"
echo "$bin"
