#!/usr/bin/env bash
# Lease one job (waiting up to 2 s), then acknowledge it with the lease token it came with.
set -euo pipefail
. "$(dirname "$0")/common.sh"
job=$(call -d "{\"queues\":[\"${QUEUE:-emails}\"],\"workerId\":\"grpcurl\",\"leaseDuration\":30,\"maxWaitMs\":2000}" \
  "$CORVO_ADDR" corvo.v1.WorkerService/Fetch)
echo "$job"
id=$(echo "$job" | sed -n 's/.*"jobId": "\([^"]*\)".*/\1/p')
token=$(echo "$job" | sed -n 's/.*"leaseToken": "\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "no job was ready" >&2; exit 1; }
call -d "{\"jobId\":\"$id\",\"leaseToken\":\"$token\",\"resultJson\":\"{\\\"sent\\\":true}\"}" \
  "$CORVO_ADDR" corvo.v1.WorkerService/Ack
