#!/usr/bin/env bash
# Installs the pinned code generators. Idempotent: each step is skipped when its pinned
# version is already in place. The cargo-installed plugins live in a per-user cache (they take
# about 80 s to build) and are linked into sdk-gen/.tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# buf and protoc-gen-es from npm (package.json pins them).
if [ ! -x node_modules/.bin/buf ] || [ package.json -nt node_modules/.stamp ]; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.stamp
fi

# protoc-gen-prost / protoc-gen-tonic track the prost/tonic majors (0.5 <-> tonic 0.14).
rust_plugins="protoc-gen-prost@0.5.0 protoc-gen-tonic@0.5.0"
cache="${CORVO_TOOLS_CACHE:-$HOME/.cache/corvo-sdk-gen}/rust-$(echo "$rust_plugins" | tr ' @' '_-')"
if [ ! -x "$cache/bin/protoc-gen-tonic" ]; then
  echo "sdk-gen: installing $rust_plugins (one time, ~80 s)" >&2
  # shellcheck disable=SC2086
  cargo install --quiet --locked --root "$cache" $rust_plugins
fi
mkdir -p .tools
ln -sfn "$cache/bin" .tools/bin
