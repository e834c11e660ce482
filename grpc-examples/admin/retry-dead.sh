#!/usr/bin/env bash
# Put every dead job of $QUEUE (default emails) back to pending with a fresh attempt budget.
# Prints how many jobs were examined and retried. Beyond 1000 jobs the server goes on in
# batches as an operation: the script then follows it with GetOperation until it is done.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
bulk=$(call -emit-defaults -d "{\"action\":\"BULK_ACTION_RETRY\",\"filter\":{\"queue\":\"${QUEUE:-emails}\",\"states\":[\"JOB_STATE_DEAD\"]}}" \
  "$CORVO_ADDR" corvo.v1.JobService/BulkJobs)
echo "$bulk"
op=$(echo "$bulk" | sed -n 's/.*"operationId": "\([^"]*\)".*/\1/p')
[ -n "$op" ] || exit 0
while :; do
  status=$(call -d "{\"operationId\":\"$op\"}" "$CORVO_ADDR" corvo.v1.JobService/GetOperation)
  case "$status" in *'"state": "OPERATION_STATE_RUNNING"'*) sleep 1 ;; *) break ;; esac
done
echo "$status"
