#!/usr/bin/env bash
# Starts a corvo server on a free loopback port with a temporary data dir, then runs the
# grpcurl examples and the gRPC health probe against it, then stops it with SIGTERM and checks
# that it exits 0. Usage: tests/examples.sh <corvo binary>
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corvo=${1:?usage: tests/examples.sh <corvo binary>}
bin=$("$root/tests/tools.sh")
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$corvo" server --bind "127.0.0.1:$port" --data-dir "$data" --drain-grace-ms 1000 >"$data/server.log" 2>&1 &
pid=$!
cleanup() { kill -9 "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  "$bin/grpc-health-probe" -addr "127.0.0.1:$port" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
  sleep 0.2
done
echo "health probe (server):"
"$bin/grpc-health-probe" -addr "127.0.0.1:$port"
echo "health probe (corvo.v1.WorkerService):"
"$bin/grpc-health-probe" -addr "127.0.0.1:$port" -service corvo.v1.WorkerService
# Each SDK's minimal worker first: the grpcurl examples end by creating a key, after which
# the server requires one.
"$root/grpc-examples/workers/run-all.sh" "$corvo" "http://127.0.0.1:$port"
CORVO_ADDR="127.0.0.1:$port" GRPCURL="$bin/grpcurl" "$root/grpc-examples/run-all.sh"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 0 ] || { echo "corvo exited $status after SIGTERM" >&2; cat "$data/server.log" >&2; exit 1; }
echo "examples: server drained and exited 0"
