#!/usr/bin/env bash
# run-under-load.sh - the README test command (tests/run-all.sh) N times in a row beside a
# CPU hog on every core (stress-ng), as a busy CI box or a developer's laptop would run it:
# the proof that the test command does not flake (docs/testing.md "The test command under
# load"). Prints each run's result and wall-clock time; exits non-zero if any run failed.
#   bash tests/run-under-load.sh [RUNS]      (default 3; each run takes 25-40 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bash deploy/install-deps.sh
logs=$(mktemp -d "${TMPDIR:-/tmp}/cw-load.XXXXXX")
stress-ng --cpu "$(nproc)" --timeout 0 --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null || true; wait "$hog" 2>/dev/null || true' EXIT
failed=0
for ((i = 1; i <= runs; i++)); do
  start=$SECONDS
  if bash tests/run-all.sh >"$logs/run-$i.log" 2>&1; then result=green; else result=RED; failed=1; fi
  summary=$(grep -E "tests passed|tests failed out of" "$logs/run-$i.log" | tr '\n' ' ')
  echo "run $i/$runs: $result in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s; $summary(log: $logs/run-$i.log)"
  grep -E "\*\*\*(Failed|Timeout)|Exception" "$logs/run-$i.log" || true
done
exit $failed
