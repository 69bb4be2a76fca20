#!/usr/bin/env bash
# run.sh - build the libFuzzer targets with clang (build/ci-fuzz) and fuzz each for a
# bounded time: CW_FUZZ_SECONDS per target (default 45; e.g. 3600 for a long run).
# Starts from the committed corpus (tests/fuzz/corpus/<target>) plus what earlier runs
# found (build/ci-fuzz/corpus/<target>, never committed automatically). Any crash, leak,
# sanitizer report or timeout fails the run and leaves the input in
# build/ci-fuzz/artifacts/: copy it into tests/fuzz/corpus/<target>/ as a regression
# input (replayed by CTest's fuzz.<target>_corpus in every build) and fix the bug.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
seconds=${CW_FUZZ_SECONDS:-45}
dir="$root/build/ci-fuzz"

CC=clang cmake -S "$root" -B "$dir" -DCW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

status=0
for target in decode config log; do
  work="$dir/corpus/$target"
  artifacts="$dir/artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  log="$dir/fuzz_$target.log"
  echo "== fuzz_$target for ${seconds}s"
  if ! "$dir/tests/fuzz/fuzz_$target" "$work" "$root/tests/fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz_$target: FAILED (input kept in $artifacts)"
    status=1
    continue
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1)
  echo "fuzz_$target: ok, $execs executions, $cov, corpus $(ls "$work" | wc -l) found + $(ls "$root/tests/fuzz/corpus/$target" | wc -l) committed"
done
exit $status
