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

gen="sdk/rust/src/gen"
"$root/sdk-gen/generate.sh" rust
if ! git diff --exit-code --stat -- $gen || [ -n "$(git status --porcelain --untracked-files=all -- $gen)" ]; then
  echo "sdk-gen: generated code is stale; run sdk-gen/generate.sh and commit the result" >&2
  exit 1
fi
echo "sdk-gen: contract checks passed"
