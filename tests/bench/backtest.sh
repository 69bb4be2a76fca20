#!/usr/bin/env bash
# backtest.sh - `churnwatch backtest` throughput: a seeded `churnwatch gen` history replayed
# under the shipped config, printing events/s and the replay's peak RSS (docs/performance.md
# "Backtest"). The history is generated once per size into the work directory and the
# generation is not timed. Figures only, no thresholds.
#   bash tests/bench/backtest.sh [--accounts N] [--days N] [--smoke]
# --smoke: 40 accounts, 20 days (CTest, label bench).
# Needs CW_BUILD_DIR (default ./build) and CW_SOURCE_DIR (default .).
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

ACCOUNTS=10000 DAYS=90
while [ $# -gt 0 ]; do
  case $1 in
    --accounts) ACCOUNTS=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --smoke) ACCOUNTS=40 DAYS=20; shift ;;
    *) echo "usage: $0 [--accounts N] [--days N] [--smoke]" >&2; exit 2 ;;
  esac
done
echo "command: bash tests/bench/backtest.sh --accounts $ACCOUNTS --days $DAYS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"$CLI" gen --seed 1 --accounts "$ACCOUNTS" --days "$DAYS" --end 2026-11-01T00:00:00Z \
  -o "$WORK/events.jsonl" || fail "churnwatch gen"
n=$(wc -l <"$WORK/events.jsonl")
echo "history: $n events, $(du -h "$WORK/events.jsonl" | cut -f1)"
cp "$CW_SOURCE_DIR/conf/churnwatch.yaml" "$WORK/cw.yaml"
t0=$(date +%s%N)
/usr/bin/time -f "%M" -o "$WORK/rss" "$CLI" -c "$WORK/cw.yaml" backtest "$WORK/events.jsonl" \
  >"$WORK/out.txt" || fail "churnwatch backtest"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
grep -q "events applied" "$WORK/out.txt" || fail "no summary: $(cat "$WORK/out.txt")"
echo "replayed: $n events in ${ms} ms: $((n * 1000 / (ms > 0 ? ms : 1))) events/s, peak RSS $(($(cat "$WORK/rss") / 1024)) MB"
pass "backtest bench ($ACCOUNTS accounts, $DAYS days)"
