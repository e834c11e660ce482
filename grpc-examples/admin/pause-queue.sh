#!/usr/bin/env bash
# Pause $QUEUE (default emails): enqueues are still accepted and active jobs run on, but no
# stream or fetch is handed its jobs. A Fetch waiting 500 ms then finds nothing
# ("found": false) even with jobs pending. Then resume it ("paused": false).
set -euo pipefail
. "$(dirname "$0")/../common.sh"
queue=${QUEUE:-emails}
call -d "{\"queue\":\"$queue\"}" "$CORVO_ADDR" corvo.v1.QueueService/PauseQueue
call -emit-defaults -d "{\"queues\":[\"$queue\"],\"workerId\":\"grpcurl\",\"maxWaitMs\":500}" \
  "$CORVO_ADDR" corvo.v1.WorkerService/Fetch
call -emit-defaults -d "{\"queue\":\"$queue\"}" "$CORVO_ADDR" corvo.v1.QueueService/ResumeQueue
