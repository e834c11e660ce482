#!/usr/bin/env bash
# Reproduces the numbers in docs/performance.md: a release build, then for each scenario a
# fresh server on a fresh data dir (so one scenario's data never slows the next), three runs
# each. Not part of tests/run: benchmarks are measured, not asserted.
# Usage: tests/bench.sh [jobs] [concurrency] [durability]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${1:-40000}
concurrency=${2:-16}
durability=${3:-fsync}
cargo build --release -p corvo >&2
corvo="${CARGO_TARGET_DIR:-target}/release/corvo"

echo "# environment"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "cores: $(nproc)  memory: $(free -g | awk '/Mem:/ {print $2}') GiB  kernel: $(uname -r)"
echo "disk: $(df -h "$root" | awk 'NR==2 {print $1, $2}')  rustc: $(rustc --version)"
echo "durability: $durability  payload: 1024 B  jobs/run: $jobs  concurrency: $concurrency  runs: 3"
echo

for scenario in enqueue enqueue-stream lifecycle combined dispatch; do
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$corvo" server --bind "127.0.0.1:$port" --data-dir "$data" --durability "$durability" >"$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  n=$jobs
  [ "$scenario" = enqueue ] && n=$((jobs / 4)) # unary calls: one round trip each
  rate=()
  # dispatch: half of the peak it measures first, unless DISPATCH_RATE fixes the rate.
  if [ "$scenario" = dispatch ] && [ -n "${DISPATCH_RATE:-}" ]; then rate=(--rate "$DISPATCH_RATE"); fi
  "$corvo" bench --server "http://127.0.0.1:$port" --scenario "$scenario" --jobs "$n" \
    --concurrency "$concurrency" --runs 3 "${rate[@]}"
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$data"
done
