#!/usr/bin/env bash
# Every queue (counts per state, how long the oldest pending job has waited, enqueued,
# completed, failed and throttled over the last minute, paused, limits, retention), then one
# queue: $QUEUE (default emails). Zero values are printed too (-emit-defaults).
set -euo pipefail
. "$(dirname "$0")/../common.sh"
call -emit-defaults "$CORVO_ADDR" corvo.v1.QueueService/ListQueues
call -emit-defaults -d "{\"queue\":\"${QUEUE:-emails}\"}" "$CORVO_ADDR" corvo.v1.QueueService/GetQueue
