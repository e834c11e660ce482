#!/usr/bin/env bash
# Compares two server binaries as A/B pairs in one run: the machine's speed drifts by the
# hour, so each round runs A then B (then B then A in the next round) on fresh data dirs,
# with the same bench client (A's) for both. Not part of tests/run: measured, not asserted.
#
# Usage: tests/ab.sh <binary A> <binary B> [rounds] [case ...]
#   a case is a scenario and its flags, e.g. "enqueue --concurrency 1 --jobs 3000"
#   (default: unary enqueue at 1 and 16 clients, enqueue-stream, lifecycle)
# Env: DURABILITY (fsync), PAYLOAD (1024).
# Output: one line per run: round, binary, scenario, ops/s, p50/p99 ms, server CPU µs per op;
# then the median of each (case, binary) over the rounds.
set -euo pipefail
a=$(realpath "$1")
b=$(realpath "$2")
rounds=${3:-3}
shift 3 || shift $#
cases=("$@")
if [ "${#cases[@]}" -eq 0 ]; then
  cases=(
    "enqueue --concurrency 1 --jobs 3000"
    "enqueue --concurrency 16 --jobs 10000"
    "enqueue-stream --concurrency 16 --jobs 40000"
    "lifecycle --concurrency 16 --jobs 40000"
  )
fi
durability=${DURABILITY:-fsync}
payload=${PAYLOAD:-1024}
results=$(mktemp)

# shellcheck source=tests/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

pid=""
data=""
stop() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$data" ]; then rm -rf "$data"; fi
  pid=""
  data=""
}
trap 'stop; rm -f "$results"' EXIT

# run <round> <label> <binary> <case>
run() {
  local round=$1 label=$2 bin=$3 case=$4 port line
  data=$(mktemp -d)
  port=$(free_port)
  "$bin" server --bind "127.0.0.1:$port" --data-dir "$data" --durability "$durability" \
    >"$data/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  read -ra args <<<"$case"
  line=$("$a" bench --server "http://127.0.0.1:$port" --output json --runs 1 \
    --payload-bytes "$payload" --scenario "${args[@]}" | jq -c '.[0]')
  stop
  echo "$line" | jq -c --arg r "$round" --arg l "$label" --arg c "$case" \
    '{round: $r, bin: $l, case: $c, ops: (.ops_per_sec | floor), p50: .p50_ms, p99: .p99_ms,
      cpu_us: .server_cpu_us_per_op}' | tee -a "$results"
}

echo "# A: $a"
echo "# B: $b"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), durability $durability"
for round in $(seq 1 "$rounds"); do
  for case in "${cases[@]}"; do
    if [ $((round % 2)) = 1 ]; then
      run "$round" A "$a" "$case"
      run "$round" B "$b" "$case"
    else
      run "$round" B "$b" "$case"
      run "$round" A "$a" "$case"
    fi
  done
done
echo "# medians over $rounds rounds"
jq -s -r 'group_by(.case)[] | group_by(.bin)[] |
  (map(.ops) | sort | .[length / 2 | floor]) as $ops |
  (map(.p50) | sort | .[length / 2 | floor]) as $p50 |
  (map(.p99) | sort | .[length / 2 | floor]) as $p99 |
  (map(.cpu_us // 0) | sort | .[length / 2 | floor]) as $cpu |
  "\(.[0].case) | \(.[0].bin) | \($ops) ops/s | p50 \($p50) ms | p99 \($p99) ms | \($cpu) µs CPU/op"' \
  "$results"
