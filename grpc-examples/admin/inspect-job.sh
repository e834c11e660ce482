#!/usr/bin/env bash
# One job as stored: state, payload, attempts used and allowed, timestamps, the worker and
# lease while active, progress, result and the last error. Usage: inspect-job.sh <job-id>
set -euo pipefail
. "$(dirname "$0")/../common.sh"
id=${1:?usage: inspect-job.sh <job-id>}
call -d "{\"jobId\":\"$id\"}" "$CORVO_ADDR" corvo.v1.JobService/GetJob
