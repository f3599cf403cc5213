#!/usr/bin/env bash
# Regenerates src/grpc/gen/ from proto/ with buf and protoc-gen-es, both pinned in package-lock.json (buf's linux, darwin and
# windows binaries come as npm optional packages, so no download and no protoc). With --check it changes nothing: it
# lints proto/, holds it to the original's wire contract (buf breaking, WIRE_JSON, against test/fixtures/original-proto), and
# fails when src/grpc/gen/ is not what the generator makes from proto/ now (for CI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# protoc-gen-es runs on the pinned bun (buf.gen.yaml): protoc-gen-es 2.17 asks for Node >= 22, and Node 20 is what we have.
export PATH="$PWD/node_modules/.bin:$PATH"
buf=node_modules/.bin/buf
[ -x "$buf" ] || { echo "generate: $buf missing: run npm ci" >&2; exit 1; }

"$buf" lint
"$buf" breaking . --against test/fixtures/original-proto

if [ "${1:-}" != "--check" ]; then
  "$buf" generate
  echo "generate: src/grpc/gen/ regenerated"
  exit 0
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$buf" generate --output "$out"
if ! diff -r "$out/src/grpc/gen" src/grpc/gen; then
  echo "generate: src/grpc/gen/ is not current with proto/: run scripts/proto/generate.sh and commit the result" >&2
  exit 1
fi
echo "generate: src/grpc/gen/ is current"
