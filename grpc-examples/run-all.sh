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
# Operators (admin/). A job that fails its only attempt goes dead: find it, inspect it,
# retry it; then the queue's view, pause, limits, workers, drain and event log.
. "$here/common.sh"
admin="$QUEUE-admin"
call -d "{\"queue\":\"$admin\",\"payloadJson\":\"{\\\"to\\\":\\\"bob@example.com\\\"}\",\"options\":{\"maxAttempts\":1}}" \
  "$CORVO_ADDR" corvo.v1.WorkerService/Enqueue >"$out"
id=$(sed -n 's/.*"jobId": "\([^"]*\)".*/\1/p' "$out" | head -1)
[ -n "$id" ] || { echo "grpc-examples: admin: enqueue printed no job id:" >&2; cat "$out" >&2; exit 1; }
lease() { # lease $admin's job $id; sets token
  call -d "{\"queues\":[\"$admin\"],\"workerId\":\"examples-admin\",\"maxWaitMs\":2000}" \
    "$CORVO_ADDR" corvo.v1.WorkerService/Fetch >"$out"
  expect "admin: $1" "\"jobId\": \"$id\""
  token=$(sed -n 's/.*"leaseToken": "\([^"]*\)".*/\1/p' "$out")
}
lease "fetch (to fail)"
call -d "{\"jobId\":\"$id\",\"leaseToken\":\"$token\",\"error\":\"smtp: connection refused\"}" \
  "$CORVO_ADDR" corvo.v1.WorkerService/Fail >"$out"
expect "admin: fail" '"status": "dead"'
QUEUE=$admin "$here/admin/dead-jobs.sh" >"$out"; expect admin/dead-jobs.sh "\"id\": \"$id\""
expect admin/dead-jobs.sh '"state": "JOB_STATE_DEAD"'
"$here/admin/inspect-job.sh" "$id" >"$out"; expect admin/inspect-job.sh '"lastError": "smtp: connection refused"'
expect admin/inspect-job.sh '"maxAttempts": 1'
QUEUE=$admin "$here/admin/retry-dead.sh" >"$out"; expect admin/retry-dead.sh '"examined": "1"'
expect admin/retry-dead.sh '"succeeded": "1"'
"$here/admin/inspect-job.sh" "$id" >"$out"; expect "admin/inspect-job.sh (after the retry)" '"state": "JOB_STATE_PENDING"'
QUEUE=$admin "$here/admin/list-queues.sh" >"$out"; expect admin/list-queues.sh "\"name\": \"$admin\""
expect admin/list-queues.sh '"failedLastMinute": 1'
# The job is pending again: only the pause keeps the Fetch from leasing it.
QUEUE=$admin "$here/admin/pause-queue.sh" >"$out"; expect admin/pause-queue.sh '"paused": true'
expect admin/pause-queue.sh '"found": false'
expect admin/pause-queue.sh '"paused": false'
QUEUE=$admin "$here/admin/limit-queue.sh" 5 10 1000 >"$out"; expect admin/limit-queue.sh '"concurrencyLimit": 5'
expect admin/limit-queue.sh '"rateStarts": 10'
expect admin/limit-queue.sh '"rateWindowMs": "1000"'
# A worker stream on its own queue, held open (one credit, nothing to push) while it is listed.
coproc WORKER { call -d @ "$CORVO_ADDR" corvo.v1.WorkerService/StreamLifecycle; }
to_worker=${WORKER[1]} from_worker=${WORKER[0]} worker_pid=$WORKER_PID
echo "{\"requestId\":\"1\",\"queues\":[\"$admin-workers\"],\"workerId\":\"examples-worker\",\"credits\":1}" >&"$to_worker"
IFS= read -r -t 10 _ <&"$from_worker" || { echo "grpc-examples: admin: the worker stream did not answer" >&2; exit 1; }
QUEUE=$admin-workers "$here/admin/workers.sh" >"$out"; expect admin/workers.sh '"workerId": "examples-worker"'
expect admin/workers.sh "\"$admin-workers\""
exec {to_worker}>&-
cat <&"$from_worker" >/dev/null
wait "$worker_pid"
# Drain with the job active: not drained at once; drained once it is acked (1 s later).
lease "fetch (to drain)"
QUEUE=$admin WAIT_MS=0 "$here/admin/drain-queue.sh" >"$out"; expect "admin/drain-queue.sh (no wait)" '"drained": false'
expect "admin/drain-queue.sh (no wait)" '"active": "1"'
(sleep 1; call -d "{\"jobId\":\"$id\",\"leaseToken\":\"$token\"}" "$CORVO_ADDR" corvo.v1.WorkerService/Ack) >/dev/null &
ack_pid=$!
QUEUE=$admin WAIT_MS=10000 "$here/admin/drain-queue.sh" >"$out"; expect admin/drain-queue.sh '"drained": true'
expect admin/drain-queue.sh '"paused": true'
wait "$ack_pid"
QUEUE=$admin WATCH_SECONDS=1 "$here/admin/watch-events.sh" >"$out"; expect admin/watch-events.sh '"type": "dead"'
expect admin/watch-events.sh '"dataJson": "{\\"error\\":\\"smtp: connection refused\\"}"'
expect admin/watch-events.sh '"type": "requeued"'
expect admin/watch-events.sh '"type": "completed"'
# Last: once a key exists, the server requires keys.
"$here/keys.sh" >"$out";     expect keys.sh '"secret": "cvk_'
expect keys.sh '"name": "examples admin"'
expect keys.sh 'Unauthenticated'
echo "grpc-examples: all examples passed"
