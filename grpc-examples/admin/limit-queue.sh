#!/usr/bin/env bash
# Limit $QUEUE (default emails): at most <concurrency> active jobs, and at most <starts> jobs
# started per <window-ms> (1 s to 1 day). 0 removes a limit; each call sets both.
# Usage: limit-queue.sh [concurrency (5)] [starts (10)] [window-ms (1000)]
set -euo pipefail
. "$(dirname "$0")/../common.sh"
call -d "{\"queue\":\"${QUEUE:-emails}\",\"concurrency\":${1:-5},\"rateStarts\":${2:-10},\"rateWindowMs\":\"${3:-1000}\"}" \
  "$CORVO_ADDR" corvo.v1.QueueService/SetQueueLimits
