#!/usr/bin/env bash
# The contract gate: buf format, lint, breaking against the previous commit, and the
# generated-code freshness check. Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/sdk-gen/bootstrap.sh"
buf=sdk-gen/node_modules/.bin/buf

"$buf" format -d --exit-code
"$buf" lint
if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:buf.yaml 2>/dev/null; then
  "$buf" breaking --against '.git#ref=HEAD~1'
else
  echo "sdk-gen: no previous commit with a buf module; breaking check skipped"
fi

# Fresh = regenerating changes nothing in the working tree. Compared against a copy taken
# before regenerating (not against git), so the check also holds before the change is
# committed; on a fresh clone (CI) the working tree is the commit, so a generated file that
# was never committed shows up as created.
gen="sdk/rust/src/gen"
before=$(mktemp -d)
trap 'rm -rf "$before"' EXIT
cp -R "$gen/." "$before/"
"$root/sdk-gen/generate.sh" rust
if ! diff -r "$before" "$gen" >/dev/null; then
  diff -r --brief "$before" "$gen" >&2 || true
  echo "sdk-gen: generated code is stale; run sdk-gen/generate.sh and commit the result" >&2
  exit 1
fi
echo "sdk-gen: contract checks passed"
