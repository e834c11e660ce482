#!/usr/bin/env bash
# Runs every language's minimal worker (grpc-examples/workers/<lang>/run) against a running
# server: enqueues 3 jobs per language, runs the worker for them, and checks that the server
# has them completed. Usage: run-all.sh <corvo binary> <server URL>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corvo=${1:?usage: run-all.sh <corvo binary> <server URL>}
url=${2:?usage: run-all.sh <corvo binary> <server URL>}
root=$(cd "$here/../.." && pwd)
for lang in $(grep -v '^#' "$root/sdk/languages"); do
  run="$here/$lang/run"
  [ -x "$run" ] || { echo "workers: $lang/run is missing" >&2; exit 1; }
  queue="examples-worker-$lang-$$"
  for i in 1 2 3; do "$corvo" enqueue --server "$url" "$queue" "{\"n\":$i}" >/dev/null; done
  timeout 300 "$run" "$url" "$queue" 3 >/dev/null
  completed=$("$corvo" queues get "$queue" --server "$url" --output json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["completed"])')
  [ "$completed" = 3 ] || { echo "workers: $lang: $completed of 3 jobs completed" >&2; exit 1; }
  echo "workers: $lang worked 3 jobs"
done
