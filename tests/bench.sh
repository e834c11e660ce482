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

# Each case: a scenario and its own flags. The compat-* cases speak the original worker
# contract (ping-pong frames, no credits, no lease tokens), as Go Corvo workers do.
cases=(
  "enqueue"
  "enqueue-stream"
  "lifecycle"
  "combined"
  "dispatch"
  "compat-enqueue --producers 4 --batch 64"
  "compat-lifecycle --workers 8 --batch 64"
  "compat-lifecycle --workers 200 --batch 1"
  "e2e"
)
for case in "${cases[@]}"; do
  read -r scenario extra <<<"$case"
  read -ra extra <<<"${extra:-}"
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$corvo" server --bind "127.0.0.1:$port" --data-dir "$data" --durability "$durability" >"$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  n=$jobs
  [ "$scenario" = enqueue ] && n=$((jobs / 4)) # unary calls: one round trip each
  rate=()
  # dispatch and e2e: half of the peak they measure first, unless DISPATCH_RATE / E2E_RATE
  # fixes the rate.
  if [ "$scenario" = dispatch ] && [ -n "${DISPATCH_RATE:-}" ]; then rate=(--rate "$DISPATCH_RATE"); fi
  if [ "$scenario" = e2e ] && [ -n "${E2E_RATE:-}" ]; then rate=(--rate "$E2E_RATE"); fi
  "$corvo" bench --server "http://127.0.0.1:$port" --scenario "$scenario" --jobs "$n" \
    --concurrency "$concurrency" --runs 3 "${rate[@]}" "${extra[@]}"
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$data"
done
