# Shared by the example scripts: where the server is and how to call it.
CORVO_ADDR=${CORVO_ADDR:-127.0.0.1:8080}
GRPCURL=${GRPCURL:-grpcurl}
call() { "$GRPCURL" -plaintext "$@"; }
