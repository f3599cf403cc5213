#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks, by running every installer in scripts/ci/ (each idempotent: a tool
# already cached at its pinned version is kept, so a warm run takes seconds). Debian packages need root: as root they are
# installed, otherwise the installer prints the exact command to run. Built tools go to the cache outside the clone
# (scripts/ci/lib.sh: ~/.cache/greeting-mesh). Goes on past a failed installer, lists the failures and exits 1: the tests that
# need what is missing then fail and say how to get it.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

failed=()
for installer in scripts/ci/install-*.sh; do
  started=$SECONDS
  if bash "$installer"; then
    echo "provision: $installer done in $((SECONDS - started)) s"
  else
    echo "provision: $installer FAILED after $((SECONDS - started)) s"
    failed+=("$installer")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "provision: incomplete (${failed[*]}); the tests that need what is missing will fail and say how to get it"
  exit 1
fi
