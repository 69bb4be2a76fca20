#!/usr/bin/env bash
# run.sh - every benchmark with its real sizes, each printing its figures against the goals:
# decode, score, end-to-end. Builds the release tree first (build/, RelWithDebInfo).
#   bash tests/bench/run.sh [e2e.sh options, e.g. --events 200000 --batch 5000]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${CW_BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 >/dev/null
echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) (shared box: compare ratios within a run)"
echo "== decode"
"$build/tests/bench_decode"
echo "== score"
"$build/tests/bench_score"
echo "== end to end"
CW_BUILD_DIR=$build CW_SOURCE_DIR=$src bash "$src/tests/bench/e2e.sh" "$@"
