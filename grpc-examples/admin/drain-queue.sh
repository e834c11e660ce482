#!/usr/bin/env bash
# Drain $QUEUE (default emails) before a deploy: pause it, then wait up to WAIT_MS (default
# 60000) until none of its jobs is active. "drained" says whether they all finished; "active"
# how many still run. The queue stays paused: resume it with ResumeQueue (pause-queue.sh).
set -euo pipefail
. "$(dirname "$0")/../common.sh"
call -emit-defaults -d "{\"queue\":\"${QUEUE:-emails}\",\"waitMs\":${WAIT_MS:-60000}}" \
  "$CORVO_ADDR" corvo.v1.QueueService/DrainQueue
