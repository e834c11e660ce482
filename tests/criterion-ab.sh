#!/usr/bin/env bash
# Two builds of one criterion benchmark, alternated (A then B in odd rounds, B then A in even
# ones): the machine's speed drifts by the minute, so one criterion run against a saved
# baseline reads noise as change. Prints each benchmark's median over the rounds for both
# builds, the difference, and every round's figure. Not part of tests/run: measured, not
# asserted.
#
# Usage: tests/criterion-ab.sh <bench executable A> <bench executable B> [rounds] [filter]
#   the executables are what `cargo bench -p corvo-core --bench apply --no-run` prints (copy
#   it aside before building the other tree); filter is criterion's regex, e.g.
#   '^apply/(lease/|ack/)'
# Env: MEASURE_S (2), seconds of measurement per benchmark and run.
set -euo pipefail
a=$(realpath "$1")
b=$(realpath "$2")
rounds=${3:-6}
filter=${4:-}
measure=${MEASURE_S:-2}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# run <label> <executable>: appends "label benchmark µs" lines
run() {
  "$2" --bench --warm-up-time 1 --measurement-time "$measure" --noplot --discard-baseline \
    ${filter:+"$filter"} 2>&1 | python3 -c '
import re, sys
label, name = sys.argv[1], None
scale = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
for line in sys.stdin:
    m = re.match(r"^(\S+/\S+)", line)
    if m and not line.startswith(" "):
        name = m.group(1)
    m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
    if m and name:
        print(label, name, float(m.group(1)) * scale[m.group(2)])
        name = None
' "$1" >>"$results"
}

for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then run A "$a"; run B "$b"; else run B "$b"; run A "$a"; fi
  echo "round $r done" >&2
done

python3 - "$results" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, name, value = line.split()
    runs[(name, label)].append(float(value))
print("# medians over the rounds (µs): A is the first executable, B the second")
for name in sorted({n for n, _ in runs}):
    a, b = runs[(name, "A")], runs[(name, "B")]
    if not a or not b:
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    rounds = lambda xs: " ".join(f"{x:.2f}" for x in xs)
    print(f"{name:36s} A {ma:10.3f}  B {mb:10.3f}  {100 * (mb - ma) / ma:+6.1f} %   A: {rounds(a)} | B: {rounds(b)}")
PY
