#!/usr/bin/env bash
# List the services the server exposes, then describe the worker service and one message.
set -euo pipefail
. "$(dirname "$0")/common.sh"
call "$CORVO_ADDR" list
call "$CORVO_ADDR" describe corvo.v1.WorkerService
call "$CORVO_ADDR" describe corvo.v1.EnqueueOptions
