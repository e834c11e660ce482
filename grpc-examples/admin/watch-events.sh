#!/usr/bin/env bash
# The event log of $QUEUE (default emails): every retained event from the oldest on
# (lastEventId "0"; EVENT_TYPES="dead,failed" keeps only those types), then new ones as they
# happen, for WATCH_SECONDS (default 2). Pass an event's seq as lastEventId to resume after it.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
types=""
[ -z "${EVENT_TYPES:-}" ] || types="\"${EVENT_TYPES//,/\",\"}\""
err=$(mktemp)
trap 'rm -f "$err"' EXIT
status=0
call -max-time "${WATCH_SECONDS:-2}" -d "{\"queues\":[\"${QUEUE:-emails}\"],\"types\":[$types],\"lastEventId\":\"0\"}" \
  "$CORVO_ADDR" corvo.v1.WorkerService/Subscribe 2>"$err" || status=$?
# The stream only ends at the deadline: grpcurl then exits 68 (64 + DEADLINE_EXCEEDED).
# Any other failure (no server, a refused key) is reported as such.
if [ "$status" -ne 0 ] && ! { [ "$status" -eq 68 ] && grep -q 'Code: DeadlineExceeded' "$err"; }; then
  cat "$err" >&2
  exit "$status"
fi
