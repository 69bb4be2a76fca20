#!/usr/bin/env bash
# run.sh - every benchmark with its real sizes, each printing its figures against the goals:
# decode, score, end-to-end (with raw consume and the DIY consumer beside churnwatchd), the
# backfill (e2e.sh --backfill: 2M events over 20 days, 128 partitions; then again with
# --seats, so that accounts have scores and rules as in production: "scored"), event-to-alert
# latency, the sweep of 1M accounts, the export at 20k and 200k accounts (about 25 minutes
# in all). Builds the release tree
# first (build/, RelWithDebInfo).
#   bash tests/bench/run.sh [e2e.sh options, e.g. --events 1000000 --batch 100000]
# CW_BENCH_ONLY="decode score e2e backfill scored latency sweep export" picks some of them.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${CW_BUILD_DIR:-$src/build}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 >/dev/null
echo "== machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) (shared box: compare ratios within a run)"
only=" ${CW_BENCH_ONLY:-decode score e2e backfill scored latency sweep export} "
export CW_BUILD_DIR=$build CW_SOURCE_DIR=$src
case $only in *" decode "*) echo "== decode"; "$build/tests/bench_decode" ;; esac
case $only in *" score "*) echo "== score"; "$build/tests/bench_score" ;; esac
case $only in *" e2e "*) echo "== end to end"; bash "$src/tests/bench/e2e.sh" "$@" ;; esac
case $only in *" backfill "*)
  echo "== backfill: 2M events over 20 days of event time"
  bash "$src/tests/bench/e2e.sh" --backfill ;;
esac
case $only in *" scored "*)
  echo "== backfill with seats: accounts scored, rules judged, alerts published"
  bash "$src/tests/bench/e2e.sh" --backfill --seats ;;
esac
case $only in *" latency "*)
  echo "== event-to-alert latency at 50k events/s"
  bash "$src/tests/bench/latency.sh" --rate 50000 --accounts 2000
  bash "$src/tests/bench/latency.sh" --rate 50000 --accounts 20000 ;;
esac
case $only in *" sweep "*) echo "== sweep"; bash "$src/tests/bench/sweep.sh" ;; esac
case $only in *" export "*) echo "== export"; bash "$src/tests/bench/export.sh" ;; esac
