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
bun test --reporter=junit --reporter-outfile=test-results/junit.xml "$@"
status=$?
bun scripts/test/summary.ts test-results/junit.xml || status=1
exit "$status"
