# Shared by the example scripts: where the server is and how to call it.
CORVO_ADDR=${CORVO_ADDR:-127.0.0.1:8080}
GRPCURL=${GRPCURL:-grpcurl}
# With CORVO_API_KEY set, every call carries it (`authorization: Bearer <key>`).
call() {
  if [ -n "${CORVO_API_KEY:-}" ]; then
    "$GRPCURL" -plaintext -H "authorization: Bearer $CORVO_API_KEY" "$@"
  else
    "$GRPCURL" -plaintext "$@"
  fi
}
