#!/usr/bin/env bash
# Installs the pinned code generators of every SDK. Idempotent: each step is skipped when its
# pinned version is already in place. Slow-to-build tools live in a per-user cache
# (${CORVO_TOOLS_CACHE:-~/.cache/corvo-sdk-gen}) and are linked into sdk-gen/.tools.
#
#   buf, protoc-gen-es          npm (package.json, package-lock.json)
#   grpcio-tools (Python)       pip, in sdk-gen/.venv (requirements.txt)
#   protoc-gen-prost/-tonic     cargo install --locked
#   protoc-gen-go/-go-grpc      go install
#   protoc, protoc-gen-grpc-java  Maven Central (mvn dependency:copy)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
cache_root="${CORVO_TOOLS_CACHE:-$HOME/.cache/corvo-sdk-gen}"
mkdir -p .tools

# buf and protoc-gen-es from npm.
if [ ! -x node_modules/.bin/buf ] || [ package-lock.json -nt node_modules/.stamp ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch node_modules/.stamp
fi

# Python: grpcio-tools in a venv (its protoc and grpc_python generator).
if [ ! -x .venv/bin/python ] || ! cmp -s requirements.txt .venv/.requirements; then
  echo "sdk-gen: installing the Python generator (requirements.txt)" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt .venv/.requirements
fi

# Rust: protoc-gen-prost / protoc-gen-tonic track the prost/tonic majors (0.5 <-> tonic 0.14).
rust_plugins="protoc-gen-prost@0.5.0 protoc-gen-tonic@0.5.0"
rust_cache="$cache_root/rust-$(echo "$rust_plugins" | tr ' @' '_-')"
if [ ! -x "$rust_cache/bin/protoc-gen-tonic" ]; then
  echo "sdk-gen: installing $rust_plugins (one time, ~80 s)" >&2
  # shellcheck disable=SC2086
  cargo install --quiet --locked --root "$rust_cache" $rust_plugins
fi
ln -sfn "$rust_cache/bin" .tools/bin

# Go: protoc-gen-go and protoc-gen-go-grpc.
go_plugins="google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12 google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2"
go_cache="$cache_root/go-$(echo "$go_plugins" | sed 's/google.golang.org\///g; s/[ @\/]/_/g')"
if [ ! -x "$go_cache/protoc-gen-go-grpc" ]; then
  echo "sdk-gen: installing $go_plugins" >&2
  for p in $go_plugins; do GOBIN="$go_cache" GOFLAGS=-mod=mod go install "$p"; done
fi
ln -sfn "$go_cache" .tools/go

# Java: protoc and the grpc-java plugin, executables published on Maven Central.
java_tools="com.google.protobuf:protoc:3.25.5 io.grpc:protoc-gen-grpc-java:1.71.0"
java_cache="$cache_root/java-$(echo "$java_tools" | sed 's/[ :]/_/g')"
if [ ! -x "$java_cache/protoc-gen-grpc-java" ]; then
  echo "sdk-gen: fetching $java_tools from Maven Central" >&2
  mkdir -p "$java_cache"
  for t in $java_tools; do
    mvn -q dependency:copy -Dartifact="$t:exe:linux-x86_64" -DoutputDirectory="$java_cache" -Dmdep.stripVersion=true >&2
  done
  mv "$java_cache/protoc-linux-x86_64.exe" "$java_cache/protoc"
  mv "$java_cache/protoc-gen-grpc-java-linux-x86_64.exe" "$java_cache/protoc-gen-grpc-java"
  chmod +x "$java_cache/protoc" "$java_cache/protoc-gen-grpc-java"
fi
ln -sfn "$java_cache" .tools/java
