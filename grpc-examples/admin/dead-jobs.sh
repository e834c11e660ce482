#!/usr/bin/env bash
# The dead jobs of $QUEUE (default emails), newest first, with their last error. "consistent"
# waits until the read view holds every write made before the call. More than 100: pass the
# answer's nextPageToken as PAGE_TOKEN for the next page.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
call -d "{\"queue\":\"${QUEUE:-emails}\",\"state\":\"JOB_STATE_DEAD\",\"pageSize\":100,\"pageToken\":\"${PAGE_TOKEN:-}\",\"consistent\":true}" \
  "$CORVO_ADDR" corvo.v1.JobService/ListJobs
