#!/usr/bin/env bash
# Node and cluster status (what `corvo status` and `corvo cluster status` show), and the
# documentation of the service that answers them.
set -euo pipefail
. "$(dirname "$0")/common.sh"
call "$CORVO_ADDR" describe corvo.v1.ClusterService
call "$CORVO_ADDR" corvo.v1.ClusterService/GetNodeStatus
call "$CORVO_ADDR" corvo.v1.ClusterService/GetClusterStatus
