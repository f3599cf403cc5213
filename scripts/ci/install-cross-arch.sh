#!/usr/bin/env bash
# Installs what runs the arm64 binary on an amd64 machine (test/e2e/binaries.test.ts): QEMU's user-mode emulator and Debian's
# arm64 C library (the binary is dynamically linked against glibc; qemu-aarch64 -L points it at this sysroot). Nothing when
# both are present; on an arm64 machine there is nothing to emulate.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/ci/lib.sh
source "$HERE/lib.sh"

if [ "$(uname -m)" = aarch64 ]; then
  log install-cross-arch "an arm64 machine runs the arm64 binary itself"
  exit 0
fi
apt_install qemu-user libc6-arm64-cross
log install-cross-arch "$(qemu-aarch64 --version | head -n1), arm64 glibc in /usr/aarch64-linux-gnu"
