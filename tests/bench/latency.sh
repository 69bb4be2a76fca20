#!/usr/bin/env bash
# latency.sh - event-to-alert latency at a fixed offered load: a private redis-server, the
# mock cluster, churnwatchd with its defaults, and latency_probe offering the load, firing
# seat_underuse on trigger accounts and timing each alert's arrival (latency_probe.c).
#   bash tests/bench/latency.sh [--rate R] [--seconds S] [--accounts A] [--triggers N]
#                               [--partitions P] [--smoke]
# --smoke: 2,000 events/s for 3 s, 200 accounts, 10 triggers (CTest, label bench; no
# thresholds). Needs CW_BUILD_DIR (default ./build) and CW_SOURCE_DIR (default .).
# CW_BENCH_LOG=FILE keeps the daemon's debug log.
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

RATE=50000 SECONDS_=20 ACCOUNTS=20000 TRIGGERS=200 PARTITIONS=4 WARMUP=5
while [ $# -gt 0 ]; do
  case $1 in
    --rate) RATE=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --accounts) ACCOUNTS=$2; shift 2 ;;
    --triggers) TRIGGERS=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --smoke) RATE=2000 SECONDS_=3 ACCOUNTS=200 TRIGGERS=10 WARMUP=2; shift ;;
    *) echo "usage: $0 [--rate R] [--seconds S] [--accounts A] [--triggers N] [--partitions P] [--smoke]" >&2
       exit 2 ;;
  esac
done
echo "command: bash tests/bench/latency.sh --rate $RATE --seconds $SECONDS_ --accounts $ACCOUNTS" \
  "--triggers $TRIGGERS --partitions $PARTITIONS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

redis_start
mock_start "$PARTITIONS"
write_config "$WORK/cw.yaml" 's/^  listen: 127.0.0.1:9464$/  listen: ""/'
daemon_start "$WORK/cw.yaml"
wait_for 30 grep -q "kafka partitions assigned" "$WORK/daemon.log" || fail "no partition assignment"

set +e
"$CW_BUILD_DIR/tests/latency_probe" --brokers "$BOOTSTRAP" --rate "$RATE" --seconds "$SECONDS_" \
  --accounts "$ACCOUNTS" --triggers "$TRIGGERS" --warmup "$WARMUP" | tee "$WORK/probe.out"
rc=${PIPESTATUS[0]}
set -e
batches=$(grep -c "batch processed" "$WORK/daemon.log" || true)
echo "daemon: $batches batches; the last: $(grep "batch processed" "$WORK/daemon.log" | tail -n1 |
  sed 's/.*msg="batch processed" //')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
daemon_stop
[ -z "${CW_BENCH_LOG:-}" ] || cp "$WORK/daemon.log" "$CW_BENCH_LOG"
[ "$rc" -eq 0 ] || fail "latency_probe exited $rc"
