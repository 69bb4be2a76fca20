#!/usr/bin/env bash
# export.sh - `churnwatch export` at growing account counts: the daemon populates a real
# redis-server with N accounts (two events each, so each has a score and history), then the
# export runs as JSON Lines and as CSV; prints accounts/s and the export's peak RSS at each
# size (its memory should not follow the account count: docs/operations.md "Exporting
# scores"). Figures only, no thresholds.
#   bash tests/bench/export.sh [--sizes "20000 200000"] [--smoke]
# --smoke: 300 then 600 accounts (CTest, label bench).
# Needs CW_BUILD_DIR (default ./build) and CW_SOURCE_DIR (default .).
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

SIZES="20000 200000" PARTITIONS=16
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) SIZES=$2; shift 2 ;;
    --smoke) SIZES="300 600" PARTITIONS=4; shift ;;
    *) echo "usage: $0 [--sizes \"N1 N2 ...\"] [--smoke]" >&2; exit 2 ;;
  esac
done
echo "command: bash tests/bench/export.sh --sizes \"$SIZES\""
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

redis_start
mock_start "$PARTITIONS"
write_config "$WORK/cw.yaml" 's/^  listen: 127.0.0.1:9464$/  listen: ""/'
daemon_start "$WORK/cw.yaml"

# run_measured OUT CMD...: run CMD with stdout to OUT; prints "seconds peak_rss_kb".
run_measured() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
with open(sys.argv[1], "wb") as out:
    rc = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL).returncode
if rc != 0:
    sys.exit("exit %d" % rc)
print("%.2f %d" % (time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}

have=0
for size in $SIZES; do
  # Accounts have..size-1: one event 8 days ago and one an hour ago each, keyed by account.
  python3 - "$have" "$size" >"$WORK/accounts.jsonl" <<'PY'
import sys, time
lo, hi = int(sys.argv[1]), int(sys.argv[2])
t = int(time.time()) - 3600
old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t - 8 * 86400))
new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
for a in range(lo, hi):
    for ts in (old, new):
        sys.stdout.write('{"account_id":"acct-%07d","user_id":"u-1","type":"login","ts":"%s"}\n'
                         % (a, ts))
PY
  cli -c "$WORK/cw.yaml" produce "$WORK/accounts.jsonl" --key account >>"$WORK/produce.log" 2>&1 ||
    fail "produce failed: $(tail -n3 "$WORK/produce.log")"
  wait_processed $((2 * size)) 3600
  [ "$(rcli zcard cw:accounts)" -eq "$size" ] || fail "cw:accounts holds $(rcli zcard cw:accounts)"
  have=$size
  for format in jsonl csv; do
    read -r secs rss < <(run_measured "$WORK/out.$format" \
      env CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "$CLI" -c "$WORK/cw.yaml" \
      export --format "$format") || fail "export --format $format failed"
    lines=$(wc -l <"$WORK/out.$format")
    [ "$lines" -ge "$size" ] || fail "export --format $format wrote $lines lines for $size accounts"
    echo "$size accounts, $format: $(printf '%.2f' "$secs") s =" \
      "$(echo "$size / $secs" | bc) accounts/s, peak RSS $((rss / 1024)) MB," \
      "$(($(stat -c %s "$WORK/out.$format") / 1024)) KiB written"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
daemon_stop
