# Shared by the benchmark scripts (tests/bench.sh, tests/ab.sh, tests/bench-growth.sh):
# source it, do not run it.

# A TCP port free on loopback right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# readyz <base url>: true when the server's /readyz answers 200.
readyz() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/readyz")" = 200 ]; }
