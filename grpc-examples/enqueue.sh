#!/usr/bin/env bash
# Enqueue a job with every option set. Prints {"jobId": ..., "status": "pending", ...}.
set -euo pipefail
. "$(dirname "$0")/common.sh"
call -d @ "$CORVO_ADDR" corvo.v1.WorkerService/Enqueue <<JSON
{
  "queue": "${QUEUE:-emails}",
  "payloadJson": "{\"to\":\"ada@example.com\"}",
  "options": {
    "priority": "PRIORITY_HIGH",
    "maxAttempts": 5,
    "backoff": {"kind": "BACKOFF_KIND_EXPONENTIAL", "baseMs": "1000", "capMs": "60000"},
    "tags": {"tenant": "acme"},
    "uniqueKey": "welcome-ada",
    "uniquePeriodMs": "60000"
  }
}
JSON
