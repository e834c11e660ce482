#!/usr/bin/env bash
# Reproduces the numbers in docs/performance.md: a release build, then for each scenario a
# fresh server on a fresh data dir (so one scenario's data never slows the next), three runs
# each. Not part of tests/run: benchmarks are measured, not asserted.
#
# Usage: tests/bench.sh [--cluster] [jobs] [concurrency] [durability]
#        (CLUSTER=1 tests/bench.sh ... is the same as --cluster; CORVO_BIN=path measures that
#        binary instead of a release build of this tree)
#
# --cluster measures a 3-node cluster on loopback against one node, side by side: for each of
# enqueue-stream, lifecycle and unary enqueue at one client, a fresh single node and then a
# fresh 3-node cluster (all three on this machine's cores, so each follower's apply competes
# with the leader), `corvo bench` against the node that leads, and every node's CPU per job
# from its /metrics (process_cpu_seconds_total before the bench and after every node has
# applied and projected the last entry). ROUNDS=n repeats the pair n times (default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cluster=${CLUSTER:-0}
if [ "${1:-}" = --cluster ]; then cluster=1; shift; fi
jobs=${1:-40000}
concurrency=${2:-16}
durability=${3:-fsync}
if [ -n "${CORVO_BIN:-}" ]; then
  corvo=$CORVO_BIN # another build to measure (e.g. an A/B pair)
else
  cargo build --release -p corvo >&2
  corvo="${CARGO_TARGET_DIR:-target}/release/corvo"
fi

echo "# environment"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "cores: $(nproc)  memory: $(free -g | awk '/Mem:/ {print $2}') GiB  kernel: $(uname -r)"
echo "disk: $(df -h "$root" | awk 'NR==2 {print $1, $2}')  rustc: $(rustc --version)"
echo "time: $(date -u '+%Y-%m-%d %H:%M UTC')  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "durability: $durability  payload: 1024 B  jobs/run: $jobs  concurrency: $concurrency  runs: 3"
echo

# shellcheck source=tests/bench-lib.sh
source "$root/tests/bench-lib.sh"

# The servers this script started and their data dirs: stopped and removed on any exit.
pids=()
dirs=()
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${#dirs[@]}" -gt 0 ]; then rm -rf "${dirs[@]}"; fi
  pids=()
  dirs=()
}
trap stop_servers EXIT

if [ "$cluster" = 0 ]; then
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
    dirs=("$data")
    port=$(free_port)
    "$corvo" server --bind "127.0.0.1:$port" --data-dir "$data" --durability "$durability" >"$data/server.log" 2>&1 &
    pids=($!)
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
    stop_servers
  done
  exit 0
fi

# ---- cluster mode ------------------------------------------------------------------------

secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
urls=() # the client URLs of the running nodes, n1 first

# start_nodes <count>: a fresh single node (1) or 3-node cluster (3), each on its own data
# dir; returns once every node answers /readyz 200 and, in a cluster, every node is a voter
# that has applied the leader's membership.
start_nodes() {
  local count=$1 i port raft data base
  base=$(mktemp -d)
  dirs=("$base")
  urls=()
  for i in $(seq 1 "$count"); do
    port=$(free_port)
    raft=$(free_port)
    data="$base/n$i"
    local args=(server --node-id "n$i" --data-dir "$data" --bind "127.0.0.1:$port"
      --durability "$durability" --drain-grace-ms 1000)
    local env=(env -u CORVO_CLUSTER_SECRET)
    if [ "$count" -gt 1 ]; then
      env+=("CORVO_CLUSTER_SECRET=$secret")
      args+=(--raft-bind "127.0.0.1:$raft")
      # n2 and n3 join through n1; each --join returns once the node is a voter.
      if [ "$i" -gt 1 ]; then args+=(--join "${urls[0]}"); fi
    fi
    "${env[@]}" "$corvo" "${args[@]}" >"$base/n$i.log" 2>&1 &
    pids+=($!)
    urls+=("http://127.0.0.1:$port")
    wait_until 30 "n$i ready (/readyz 200)" readyz "${urls[$((i - 1))]}"
  done
  wait_until 60 "$count voters, all ready, one leader" members_ready "$count"
}

# wait_until <seconds> <what> <command...>: polls the command every 0.2 s.
wait_until() {
  local limit=$1 what=$2 i
  shift 2
  for i in $(seq 1 $((limit * 5))); do
    "$@" && return 0
    sleep 0.2
  done
  echo "tests/bench.sh: gave up waiting ${limit}s for $what; logs in ${dirs[*]}" >&2
  exit 1
}


status_json() { "$corvo" cluster status --server "${urls[0]}" --output json 2>/dev/null; }

members_ready() {
  status_json | jq -e --argjson n "$1" \
    '[.nodes[] | select(.voter and .reachable and .status.ready)] | length == $n' >/dev/null
}

# settled: every node has applied the leader's last entry and projected it into its view, so
# the CPU read next includes the followers' share of the work.
settled() {
  status_json | jq -e '
    ([.nodes[] | select(.status.is_leader) | .status.committed_index] | first) as $c
    | $c != null and all(.nodes[]; .status.applied_index == $c and .status.view_applied_index == $c)
  ' >/dev/null
}

leader_url() {
  status_json | jq -r '.nodes[] | select(.status.is_leader) | "http://" + .client_address'
}

# One value per node, in urls order.
node_cpu_seconds() {
  local url
  for url in "${urls[@]}"; do
    curl -s "$url/metrics" | awk '$1 == "process_cpu_seconds_total" {print $2}'
  done
}

# Each case: a label, then the scenario and its flags.
cases=(
  "enqueue-stream|--scenario enqueue-stream --jobs $jobs --concurrency $concurrency"
  "lifecycle|--scenario lifecycle --jobs $jobs --concurrency $concurrency"
  "enqueue, 1 client|--scenario enqueue --jobs $((jobs / 8)) --concurrency 1"
)
results=$(mktemp)
for round in $(seq 1 "${ROUNDS:-1}"); do
  for case in "${cases[@]}"; do
    label=${case%%|*}
    read -ra flags <<<"${case#*|}"
    for count in 1 3; do
      topology=$([ "$count" = 1 ] && echo "single node" || echo "3-node cluster")
      echo "## round $round: $label, $topology ($(date -u +%H:%M:%S) UTC)"
      start_nodes "$count"
      leader=$(leader_url)
      mapfile -t cpu_before < <(node_cpu_seconds)
      out=$("$corvo" bench --server "$leader" "${flags[@]}" --runs 3 --output json)
      wait_until 120 "every node to apply and project the last entry" settled
      mapfile -t cpu_after < <(node_cpu_seconds)
      jq -c '.[0] | {ops_per_sec, runs, cv, p50_ms, p99_ms, max_ms, errors, ops_done,
        leader_cpu_us_per_op: .server_cpu_us_per_op, setup_cpu_us_per_op}' <<<"$out"
      ops=$(jq '.[0].ops_done' <<<"$out")
      cpu=()
      for i in "${!urls[@]}"; do
        us=$(awk -v a="${cpu_after[$i]}" -v b="${cpu_before[$i]}" -v n="$ops" \
          'BEGIN {printf "%.1f", (a - b) * 1e6 / n}')
        mark=$([ "${urls[$i]}" = "$leader" ] && echo "*" || echo "")
        cpu+=("n$((i + 1))$mark $us")
      done
      echo "cpu µs/job: ${cpu[*]}"
      jq -r --arg r "$round" --arg l "$label" --arg t "$topology" --arg cpu "${cpu[*]}" \
        '.[0] | [$r, $l, $t, .ops_per_sec, .p50_ms, .p99_ms, .errors, $cpu] | @tsv' \
        <<<"$out" >>"$results"
      stop_servers
      echo
    done
  done
done

echo "# summary (cluster ratio = cluster jobs/s over the single node's, same round; * = leader;"
echo "# CPU per job is the node's process CPU over the bench, untimed pre-enqueue included)"
printf '%-5s %-18s %-15s %10s %7s %9s %9s %6s  %s\n' \
  round scenario topology jobs/s ratio p50_ms p99_ms errors "CPU µs/job per node"
awk -F'\t' '
  $3 == "single node" { single[$1 FS $2] = $4 }
  {
    ratio = ($3 != "single node" && single[$1 FS $2] > 0) ? sprintf("%.0f %%", 100 * $4 / single[$1 FS $2]) : "-"
    printf "%-5s %-18s %-15s %10.0f %7s %9.3f %9.3f %6d  %s\n", $1, $2, $3, $4, ratio, $5, $6, $7, $8
  }' "$results"
rm -f "$results"
