#!/usr/bin/env bash
# API keys: create an admin key (on a new server that runs open, or with an admin key in
# CORVO_API_KEY), list the keys with it, and show that a call without a key is now refused.
# The secret is printed once, by CreateKey: store it safely.
set -euo pipefail
. "$(dirname "$0")/common.sh"
created=$(call -d '{"name":"examples admin","role":"KEY_ROLE_ADMIN"}' \
  "$CORVO_ADDR" corvo.v1.KeyService/CreateKey)
echo "$created"
secret=$(echo "$created" | sed -n 's/.*"secret": "\([^"]*\)".*/\1/p')
CORVO_API_KEY=$secret call "$CORVO_ADDR" corvo.v1.KeyService/ListKeys
# Without a key: refused (the server requires keys once one exists).
CORVO_API_KEY= call "$CORVO_ADDR" corvo.v1.WorkerService/GetServerInfo 2>&1 || true
