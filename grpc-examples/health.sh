#!/usr/bin/env bash
# Readiness as Kubernetes' gRPC probe sees it: the whole server, then the worker service.
set -euo pipefail
. "$(dirname "$0")/common.sh"
call "$CORVO_ADDR" grpc.health.v1.Health/Check
call -d '{"service":"corvo.v1.WorkerService"}' "$CORVO_ADDR" grpc.health.v1.Health/Check
