#!/usr/bin/env bash
# `npm test`: provisions what the tests need (provision.sh), brings the built artifacts up to date (scripts/build/fresh.ts, so
# no test rebuilds one inside its timeout), runs the whole suite with bun test and a JUnit report, and prints
# one line of counts from that report (summary.ts): tests, not describe blocks. Arguments go to bun test (a file, a -t pattern).
# The exit status is non-zero when any test failed or did not run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export PATH="$PWD/node_modules/.bin:$PATH"

bash scripts/test/provision.sh
bun scripts/build/fresh.ts || exit 1
mkdir -p test-results
rm -f test-results/junit.xml
# A test's own assertions decide what is too slow; the runner's timeout only catches a hang. Bun's default of 5 s per test
# failed browser and process tests on a busy two-core machine that were merely slow (a CPU-bound neighbour, a cold start).
bun test --timeout 30000 --reporter=junit --reporter-outfile=test-results/junit.xml "$@"
status=$?
bun scripts/test/summary.ts test-results/junit.xml || status=1
exit "$status"
