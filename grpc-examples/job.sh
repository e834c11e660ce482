#!/usr/bin/env bash
# Look a job up, cancel it, and put it back with RetryJob. Usage: job.sh <job-id>
set -euo pipefail
. "$(dirname "$0")/common.sh"
id=${1:?usage: job.sh <job-id>}
call -d "{\"jobId\":\"$id\"}" "$CORVO_ADDR" corvo.v1.JobService/GetJob
call -d "{\"jobId\":\"$id\"}" "$CORVO_ADDR" corvo.v1.JobService/CancelJob
call -d "{\"jobId\":\"$id\"}" "$CORVO_ADDR" corvo.v1.JobService/RetryJob
