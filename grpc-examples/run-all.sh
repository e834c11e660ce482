#!/usr/bin/env bash
# Runs every example against a running server and checks what each one printed.
# Used by tests/run; CORVO_ADDR and GRPCURL say where the server and grpcurl are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
expect() { # expect <what> <pattern>: the last output must contain pattern
  grep -q -- "$2" "$out" || { echo "grpc-examples: $1: expected output containing $2, got:" >&2; cat "$out" >&2; exit 1; }
}
export QUEUE="examples-$$"

"$here/describe.sh" >"$out";   expect describe.sh "rpc StreamLifecycle"
"$here/health.sh" >"$out";     expect health.sh '"status": "SERVING"'
"$here/enqueue.sh" >"$out";    expect enqueue.sh '"status": "pending"'
"$here/fetch-ack.sh" >"$out";  expect fetch-ack.sh '"state": "JOB_STATE_COMPLETED"'
"$here/enqueue.sh" >"$out"     # the unique key holds: same job
expect "enqueue.sh (duplicate)" '"status": "duplicate"'
QUEUE="$QUEUE-stream" "$here/enqueue.sh" >/dev/null
QUEUE="$QUEUE-stream" "$here/stream.sh" >"$out"; expect stream.sh '"acked": 1'
QUEUE="$QUEUE-job" "$here/enqueue.sh" >"$out"
id=$(sed -n 's/.*"jobId": "\([^"]*\)".*/\1/p' "$out" | head -1)
"$here/job.sh" "$id" >"$out";  expect job.sh '"state": "JOB_STATE_CANCELLED"'
expect job.sh '"state": "JOB_STATE_PENDING"'
"$here/status.sh" >"$out";   expect status.sh "rpc GetNodeStatus"
expect status.sh '"role": "NODE_ROLE_LEADER"'
expect status.sh '"ready": true'
# Last: once a key exists, the server requires keys.
"$here/keys.sh" >"$out";     expect keys.sh '"secret": "cvk_'
expect keys.sh '"name": "examples admin"'
expect keys.sh 'Unauthenticated'
echo "grpc-examples: all examples passed"
