#!/usr/bin/env bash
# Does throughput hold as data grows? For each state (empty, N finished jobs, N pending jobs)
# a fresh release server on a fresh data dir: `corvo bench --prefill-*` loads the state
# (timed on its own: the load's jobs/s), the snapshots the load's log triggered are let
# finish (a bulk load's artefact: seconds of writing the whole state, which would otherwise
# fall into whichever run comes next), then batched enqueue and lifecycle run three times
# each; then the server is stopped (SIGTERM) and started again on the same data, timed until
# /readyz answers 200. Reports jobs/s against the empty state's, the snapshots built during
# the timed runs (sustained writes build them too: tests/bench-snapshot.sh measures what one
# costs), the server's largest resident memory during the load and the runs, and the restart
# time. The pending load is also timed per 100 000-job slice: its last slice (into a state of
# N - 100 000 pending jobs) against its first (into the empty state), within one run, so the
# hour's drift does not enter that ratio. Not part of tests/run: measured, not asserted.
#
# Usage: tests/bench-growth.sh [N (1000000)] [jobs per run (40000)] [concurrency (16)]
# Env: ROUNDS (1), DURABILITY (fsync), CORVO_BIN (default: a release build of this tree).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
n=${1:-1000000}
jobs=${2:-40000}
concurrency=${3:-16}
durability=${DURABILITY:-fsync}
if [ -z "${CORVO_BIN:-}" ]; then
  cargo build --release -p corvo >&2
  CORVO_BIN="${CARGO_TARGET_DIR:-target}/release/corvo"
fi
corvo=$CORVO_BIN

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), durability $durability"
echo "# $n jobs of state, $jobs jobs per run, concurrency $concurrency, 1 KiB payloads"

# shellcheck source=tests/bench-lib.sh
source "$root/tests/bench-lib.sh"

pid=""
data=""
stop() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  pid=""
}
# On a failure the server's log goes to stderr before its data dir is removed.
cleanup() {
  local rc=$?
  stop
  if [ -n "$data" ]; then
    if [ "$rc" != 0 ] && [ -f "$data/server.log" ]; then
      echo "--- the server's log (last 60 lines) ---" >&2
      tail -60 "$data/server.log" >&2
    fi
    rm -rf "$data"
  fi
}
trap cleanup EXIT

# start <port>: the server on $data; returns once /readyz answers 200, printing the seconds.
start() {
  local port=$1 t0 i
  t0=$(date +%s.%N)
  "$corvo" server --bind "127.0.0.1:$port" --data-dir "$data" --durability "$durability" \
    >>"$data/server.log" 2>&1 &
  pid=$!
  for i in $(seq 1 600); do
    if readyz "http://127.0.0.1:$port"; then
      echo "$(date +%s.%N) $t0" | awk '{printf "%.2f", $1 - $2}'
      return 0
    fi
    sleep 0.05
  done
  echo "the server did not get ready in 30 s; log: $data/server.log" >&2
  exit 1
}

# The snapshots the server has finished building (from its log).
snapshots_built() {
  sed 's/\x1b\[[0-9;]*m//g' "$data/server.log" | grep -c 'built a snapshot' || true
}

# Waits (at most 5 minutes) until no snapshot is being written: the server's `corvo-snapshot`
# thread has been gone for 1.5 s (a trigger is checked every second, so one due after the
# load has started by then).
settle_snapshots() {
  local i quiet=0
  for i in $(seq 1 3000); do
    if grep -qx corvo-snapshot /proc/"$pid"/task/*/comm 2>/dev/null; then
      quiet=0
    else
      quiet=$((quiet + 1))
      [ "$quiet" -ge 15 ] && return 0
    fi
    sleep 0.1
  done
  echo "a snapshot was still being written after 5 minutes; log: $data/server.log" >&2
  exit 1
}

results=$(mktemp)
for round in $(seq 1 "${ROUNDS:-1}"); do
  for state in empty finished pending; do
    data=$(mktemp -d)
    port=$(free_port)
    start "$port" >/dev/null
    prefill=()
    case $state in
      finished) prefill=(--prefill-finished "$n") ;;
      pending) prefill=(--prefill-pending "$n") ;;
    esac
    url="http://127.0.0.1:$port"
    load='{}'
    if [ "${#prefill[@]}" -gt 0 ]; then
      load=$("$corvo" bench --server "$url" --output json --runs 1 --scenario enqueue-stream \
        --jobs 16 --concurrency "$concurrency" "${prefill[@]}" | jq -c '.[0].prefill')
      settle_snapshots
    fi
    built_before=$(snapshots_built)
    es=$("$corvo" bench --server "$url" --output json --runs 3 --scenario enqueue-stream \
      --jobs "$jobs" --concurrency "$concurrency" | jq -c '.[0]')
    lc=$("$corvo" bench --server "$url" --output json --runs 3 --scenario lifecycle \
      --jobs "$jobs" --concurrency "$concurrency" | jq -c '.[0]')
    built_during=$(($(snapshots_built) - built_before))
    stop
    restart=$(start "$port")
    stop
    rm -rf "$data"
    data=""
    jq -n -c --arg r "$round" --arg s "$state" --argjson es "$es" --argjson lc "$lc" \
      --argjson load "$load" --arg restart "$restart" --arg snaps "$built_during" \
      --arg n "$n" '{round: $r, state: $s,
        enqueue_stream: ($es.ops_per_sec | floor), lifecycle: ($lc.ops_per_sec | floor),
        load_s: $load.seconds,
        load_jobs_per_s: (if $load.seconds then ($n | tonumber) / $load.seconds | floor else null end),
        slices: ($load.pending_slices_jobs_per_s // []),
        snapshots_during_runs: ($snaps | tonumber),
        rss_max_mb: ([$load.server_rss_max_mb, $es.server_rss_max_mb,
          $lc.server_rss_max_mb] | map(select(. != null)) | max),
        restart_to_ready_s: ($restart | tonumber)}' | tee -a "$results"
  done
done

echo "# per round: jobs/s against the empty state's (same round)"
jq -s -r '
  group_by(.round)[] | (map(select(.state == "empty")) | first) as $e |
  .[] | "round \(.round) | \(.state) | enqueue-stream \(.enqueue_stream)/s (\(100 * .enqueue_stream / $e.enqueue_stream | floor) %) | lifecycle \(.lifecycle)/s (\(100 * .lifecycle / $e.lifecycle | floor) %) | loaded \(if .load_jobs_per_s then "at \(.load_jobs_per_s)/s (\(100 * .load_jobs_per_s / $e.enqueue_stream | floor) %)" else "-" end)\(if (.slices | length) > 1 then ", slices first \(.slices[0] | floor)/s last \(.slices[-1] | floor)/s (\(100 * .slices[-1] / .slices[0] | floor) %)" else "" end) | snapshots during the runs \(.snapshots_during_runs) | rss max \(.rss_max_mb) MiB | restart \(.restart_to_ready_s) s"' \
  "$results"
rm -f "$results"
