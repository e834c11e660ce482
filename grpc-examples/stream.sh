#!/usr/bin/env bash
# A worker stream by hand: grant one credit, wait for the server to push a job, ack it with
# its lease token in the next frame, then half-close. Needs a job in $QUEUE (enqueue.sh).
set -euo pipefail
. "$(dirname "$0")/common.sh"
queue=${QUEUE:-emails}
coproc STREAM { call -d @ "$CORVO_ADDR" corvo.v1.WorkerService/StreamLifecycle; }
to_server=${STREAM[1]} from_server=${STREAM[0]} pid=$STREAM_PID
echo "{\"requestId\":\"1\",\"queues\":[\"$queue\"],\"workerId\":\"grpcurl-stream\",\"credits\":1}" >&"$to_server"
id="" token=""
while [ -z "$id" ] || [ -z "$token" ]; do
  IFS= read -r -t 10 line <&"$from_server" || { echo "no job was pushed within 10 s" >&2; exit 1; }
  echo "$line"
  case "$line" in
    *'"jobId":'*) id=$(echo "$line" | sed -n 's/.*"jobId": "\([^"]*\)".*/\1/p') ;;
    *'"leaseToken":'*) token=$(echo "$line" | sed -n 's/.*"leaseToken": "\([^"]*\)".*/\1/p') ;;
  esac
done
echo "{\"requestId\":\"2\",\"acks\":[{\"jobId\":\"$id\",\"leaseToken\":\"$token\"}]}" >&"$to_server"
exec {to_server}>&- # half-close: the server ends the stream after the ack's answer
cat <&"$from_server"
wait "$pid"
