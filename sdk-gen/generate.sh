#!/usr/bin/env bash
# Regenerates the SDK code from proto/ with buf. Usage: sdk-gen/generate.sh [langs...]
# (default: every language this machine generates). Run sdk-gen/bootstrap.sh first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
buf=sdk-gen/node_modules/.bin/buf
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(rust)
for lang in "${langs[@]}"; do
  "$buf" generate --template "sdk-gen/buf.gen.$lang.yaml"
done
# The Rust crate also carries the encoded descriptor set (with imports) for server reflection.
for lang in "${langs[@]}"; do
  if [ "$lang" = rust ]; then
    "$buf" build --as-file-descriptor-set -o sdk/rust/src/gen/corvo_descriptor.binpb
  fi
done
