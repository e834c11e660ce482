#!/usr/bin/env bash
# What snapshots cost a loaded node, A/B. A server loads N pending jobs with the snapshot
# triggers off and stops; then, per round and binary (in the order given in odd rounds,
# reversed in even ones), that data dir is copied
# fresh, a server of the binary starts on it and a load runs. Two modes:
#   MODE=forced (default): the load is an `enqueue-stream` of JOBS jobs and
#     `corvo snapshot create` is called one second in, with the triggers off: the snapshot
#     falls at the same point of the same state in every run.
#   MODE=triggers: the loaded state gets one snapshot before it is copied, the servers run
#     with their default triggers, and the load is unary enqueues (JOBS calls from 4 clients,
#     an entry each or nearly): what the automatic triggers cost with small entries.
# Reports the load's jobs/s, p99 and server CPU per job, and the snapshots built during the
# load and their build time from the server's log. Not part of tests/run: measured, not
# asserted.
#
# Usage: tests/bench-snapshot.sh <binary A> [binary B ...]
# Env: MODE (forced), N (300000 pending jobs of state), JOBS (300000), ROUNDS (3),
#      DURABILITY (fsync).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/bench-lib.sh
source "$root/tests/bench-lib.sh"
[ "$#" -ge 1 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
n=${N:-300000}
jobs=${JOBS:-300000}
durability=${DURABILITY:-fsync}
mode=${MODE:-forced}
case "$mode" in
  forced)
    triggers=(--snapshot-entries 0 --snapshot-log-bytes 0 --snapshot-interval-secs 0)
    load=(--scenario enqueue-stream --concurrency 16)
    ;;
  triggers)
    triggers=()
    load=(--scenario enqueue --concurrency 4)
    ;;
  *) echo "MODE is forced or triggers, not $mode" >&2; exit 2 ;;
esac
work=$(mktemp -d)
port=$(free_port)
url="http://127.0.0.1:$port"
pid=""
stop() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
}
trap 'stop; rm -rf "$work"' EXIT

# start <binary> [server flags...]
start() {
  "$1" server --bind "127.0.0.1:$port" --data-dir "$work/data" --durability "$durability" \
    "${@:2}" >"$work/server.log" 2>&1 &
  pid=$!
  local i
  for i in $(seq 1 600); do readyz "$url" && return 0; sleep 0.05; done
  echo "the server did not get ready; log: $work/server.log" >&2
  exit 1
}

start "${bins[0]}" --snapshot-entries 0 --snapshot-log-bytes 0 --snapshot-interval-secs 0
"${bins[0]}" bench --server "$url" --scenario enqueue-stream --jobs 1000 --runs 1 \
  --prefill-pending "$n" >/dev/null
[ "$mode" = triggers ] && "${bins[0]}" snapshot create --server "$url" >/dev/null
stop
mv "$work/data" "$work/pristine"
if [ "$mode" = forced ]; then what="$jobs enqueued in a stream, a snapshot 1 s in"; else what="$jobs unary enqueues, default triggers"; fi
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg): $n pending jobs, $what"

for round in $(seq 1 "${ROUNDS:-3}"); do
  # The binaries in the order given in odd rounds and reversed in even ones, so neither
  # always runs first after the copy.
  order=("${bins[@]}")
  if [ $((round % 2)) -eq 0 ]; then
    order=()
    for ((i = ${#bins[@]} - 1; i >= 0; i--)); do order+=("${bins[$i]}"); done
  fi
  for b in "${order[@]}"; do
    rm -rf "$work/data"
    cp -a "$work/pristine" "$work/data"
    sync
    start "$b" "${triggers[@]}"
    "$b" bench --server "$url" "${load[@]}" --jobs "$jobs" --runs 1 \
      --output json >"$work/bench.json" &
    bench=$!
    if [ "$mode" = forced ]; then
      sleep 1
      "$b" snapshot create --server "$url" >/dev/null
    fi
    wait "$bench"
    stop
    # The snapshots built during the load and their build times (ms).
    built=$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep 'built a snapshot' |
      grep -o 'elapsed_ms=[0-9]*' | cut -d= -f2 | paste -sd+ -) || true
    jq -r --arg r "$round" --arg b "$b" --arg built "${built:-none}" '.[0] |
      "round \($r) | \($b) | \(.ops_per_sec | floor)/s | p99 \(.p99_ms) ms | \(.server_cpu_us_per_op) µs/job | snapshots built (ms): \($built)"' \
      "$work/bench.json"
  done
done
