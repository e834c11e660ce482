#!/usr/bin/env bash
# The worker streams connected (the leader holds them all): worker id, host, queues, credits
# granted and unused, jobs held, when each connected and last sent a frame. With QUEUE set,
# only the streams taking jobs from it.
set -euo pipefail
. "$(dirname "$0")/../common.sh"
call -d "{\"queue\":\"${QUEUE:-}\"}" "$CORVO_ADDR" corvo.v1.QueueService/ListWorkers
