#!/usr/bin/env bash
# What a snapshot costs a loaded node, A/B: the snapshot falls at the same point of the same
# state in every run. A server loads N pending jobs with the snapshot triggers off and stops;
# then, per round and binary (alternated), that data dir is copied fresh, a server of the
# binary starts on it, an `enqueue-stream` of JOBS jobs begins and `corvo snapshot create` is
# called one second in. Reports the load's jobs/s, p99 and server CPU per job, and the
# snapshot's build time from the server's log. Not part of tests/run: measured, not asserted.
#
# Usage: tests/bench-snapshot.sh <binary A> [binary B ...]
# Env: N (300000 pending jobs of state), JOBS (300000), ROUNDS (3), DURABILITY (fsync).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/bench-lib.sh
source "$root/tests/bench-lib.sh"
[ "$#" -ge 1 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
n=${N:-300000}
jobs=${JOBS:-300000}
durability=${DURABILITY:-fsync}
work=$(mktemp -d)
port=$(free_port)
url="http://127.0.0.1:$port"
pid=""
stop() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
}
trap 'stop; rm -rf "$work"' EXIT

start() {
  "$1" server --bind "127.0.0.1:$port" --data-dir "$work/data" --durability "$durability" \
    --snapshot-entries 0 --snapshot-log-bytes 0 --snapshot-interval-secs 0 >"$work/server.log" 2>&1 &
  pid=$!
  local i
  for i in $(seq 1 600); do readyz "$url" && return 0; sleep 0.05; done
  echo "the server did not get ready; log: $work/server.log" >&2
  exit 1
}

start "${bins[0]}"
"${bins[0]}" bench --server "$url" --scenario enqueue-stream --jobs 1000 --runs 1 \
  --prefill-pending "$n" >/dev/null
stop
mv "$work/data" "$work/pristine"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg): $n pending jobs, $jobs enqueued, a snapshot 1 s in"

for round in $(seq 1 "${ROUNDS:-3}"); do
  for b in "${bins[@]}"; do
    rm -rf "$work/data"
    cp -a "$work/pristine" "$work/data"
    sync
    start "$b"
    "$b" bench --server "$url" --scenario enqueue-stream --jobs "$jobs" --runs 1 \
      --concurrency 16 --output json >"$work/bench.json" &
    bench=$!
    sleep 1
    "$b" snapshot create --server "$url" >/dev/null
    wait "$bench"
    stop
    built=$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep 'built a snapshot' |
      grep -o 'elapsed_ms=[0-9]*' | tail -1 | cut -d= -f2)
    jq -r --arg r "$round" --arg b "$b" --arg built "${built:-?}" '.[0] |
      "round \($r) | \($b) | \(.ops_per_sec | floor)/s | p99 \(.p99_ms) ms | \(.server_cpu_us_per_op) µs/job | snapshot \($built) ms"' \
      "$work/bench.json"
  done
done
