#!/usr/bin/env bash
# Installs the real third-party clients the tests drive Corvo with, pinned, into a per-user
# cache (idempotent; a second run does nothing): grpcurl (operators' admin calls) and
# grpc-health-probe (what Kubernetes-style probes run). Prints the bin directory.
set -euo pipefail
bin="${CORVO_TOOLS_CACHE:-$HOME/.cache/corvo-tools}/bin"
mkdir -p "$bin"
install_go() { # install_go <binary> <module@version>
  local name=$1 module=$2 stamp="$bin/.$1.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module" ]; then return; fi
  command -v go >/dev/null || { echo "tests/tools.sh: Go is needed to install $name" >&2; exit 1; }
  echo "tests/tools.sh: installing $module" >&2
  GOBIN="$bin" go install "$module"
  echo "$module" >"$stamp"
}
install_go grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
install_go grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe@v0.4.62
echo "$bin"
