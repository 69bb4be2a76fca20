#!/usr/bin/env bash
# daemon_start_stop.sh - exit codes, the process_* series and Kafka error lines
# (docs/operations.md, docs/metrics.md):
#   1. Redis unreachable at start: the daemon retries, serves /metrics meanwhile with the
#      standard process_* series (valid Prometheus text, values consistent with the
#      process: its start time, memory, descriptors), and a SIGTERM during the retry ends
#      it with exit 0; a config error still exits 1;
#   2. Kafka unreachable: each broker failure is logged once, as msg="kafka error" at warn,
#      librdkafka's own line about it only at debug; the client is named churnwatchd#...;
#   3. the CLI's librdkafka client is named churnwatch#..., never churnwatchd.
source "$(dirname "$0")/harness.bash"

HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
CFG="$WORK/cw.yaml"
write_config "$CFG" "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$HTTP_PORT|" \
  's|^  properties: {}$|  properties: {message.timeout.ms: "2000"}|'
metric_saved() { awk -v s="$1" '$1 == s { print $2 }' "$WORK/metrics.txt"; } # of /metrics saved

# ---- 1. a stop during the start-up retry -------------------------------------------------
REDIS_PORT=$(free_port) # nothing listens there
DEAD_KAFKA=127.0.0.1:$(free_port)
T0=$(date +%s)
BOOTSTRAP=$DEAD_KAFKA run_daemon "$CFG" "$WORK/daemon-retry.log"
wait_log_count 'msg="redis unavailable, retrying"' 2 60
curl -sf "$URL/metrics" >"$WORK/metrics.txt" || fail "no /metrics during the retry"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 ||
  { cat "$WORK/promtool.txt" >&2; fail "promtool check metrics"; }
for s in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
  process_start_time_seconds process_open_fds process_max_fds; do
  grep -q "^# TYPE $s " "$WORK/metrics.txt" || fail "no family $s"
  [ -n "$(metric_saved "$s")" ] || fail "no value for $s"
done
T1=$(date +%s)
python3 - "$WORK/metrics.txt" "$T0" "$T1" "$DAEMON_PID" <<'PY' || fail "process_* values"
import os, sys
m = {}
for line in open(sys.argv[1]):
    if line.startswith("process_"):
        k, v = line.split()
        m[k] = float(v)
t0, t1, pid = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fds = len(os.listdir(f"/proc/{pid}/fd"))
checks = [
    ("start time within the test's launch", t0 - 2 <= m["process_start_time_seconds"] <= t1 + 1),
    ("cpu seconds not negative", m["process_cpu_seconds_total"] >= 0),
    ("rss at least 1 MB", m["process_resident_memory_bytes"] >= 1 << 20),
    ("rss below the virtual size", m["process_resident_memory_bytes"] < m["process_virtual_memory_bytes"]),
    ("open fds at least stdio", m["process_open_fds"] >= 3),
    ("open fds below the limit", m["process_open_fds"] < m["process_max_fds"]),
    # descriptors come and go (HTTP connections): the count is of the same order as /proc's
    ("open fds like /proc/PID/fd", abs(m["process_open_fds"] - fds) <= 8),
]
bad = [name for name, ok in checks if not ok]
if bad:
    print("failed:", bad, m, "fds", fds, file=sys.stderr)
    sys.exit(1)
PY
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM during the start-up retry exited $rc, not 0"
grep -q 'msg="stop requested while waiting for Redis at start-up"' "$DAEMON_LOG" ||
  fail "no log line for the stop during the retry"
pass "SIGTERM during the start-up retry: exit 0; process_* series valid and consistent"

printf 'kafka: [\n' >"$WORK/broken.yaml"
chmod 600 "$WORK/broken.yaml"
rc=0
"$DAEMON" -c "$WORK/broken.yaml" >"$WORK/broken.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a config error exited $rc, not 1"
pass "a config error: exit 1"

# ---- 2. Kafka errors, once each ---------------------------------------------------------
redis_start
BOOTSTRAP=$DEAD_KAFKA run_daemon "$CFG" "$WORK/daemon-kafka.log"
refused() { grep -F 'Connection refused' "$DAEMON_LOG" | grep -F 'msg="kafka error"' | grep -F 'client=churnwatchd#consumer' >/dev/null; }
wait_for 60 refused || fail "no 'kafka error' line for the refused connection"
daemon_stop
grep -F 'Connection refused' "$DAEMON_LOG" | grep -E 'level=(warn|error)' >"$WORK/refused.txt" || true
[ -s "$WORK/refused.txt" ] || fail "no refused connection logged at warn"
if grep -vF 'msg="kafka error"' "$WORK/refused.txt" >"$WORK/twice.txt"; then
  fail "the same broker failure logged again above debug: $(head -n3 "$WORK/twice.txt")"
fi
grep -qE 'level=debug msg="librdkafka" client=churnwatchd#[a-z]+-[0-9]+ facility=FAIL' "$DAEMON_LOG" ||
  fail "librdkafka's own FAIL line is not kept at debug"
grep -F 'msg="kafka error"' "$WORK/refused.txt" | grep -v 'level=warn' >/dev/null &&
  fail "a broker failure logged at another level than warn"
pass "a broker failure: one warn line (kafka error), librdkafka's at debug"

# ---- 3. the CLI's client name -------------------------------------------------------------
printf '{"event_id":"e1","account_id":"a","user_id":"u","type":"login","ts":1}\n' >"$WORK/e.jsonl"
rc=0
CHURNWATCH_KAFKA_BROKERS=$DEAD_KAFKA CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  "$CLI" -c "$CFG" produce "$WORK/e.jsonl" >"$WORK/produce.out" 2>"$WORK/produce.err" || rc=$?
[ "$rc" != 0 ] || fail "produce to an unreachable broker succeeded"
grep -qE 'client=churnwatch#producer-[0-9]+' "$WORK/produce.err" ||
  fail "the CLI's Kafka lines do not name churnwatch#producer: $(head -n3 "$WORK/produce.err")"
grep -q 'churnwatchd' "$WORK/produce.err" &&
  fail "the CLI's lines say churnwatchd: $(grep churnwatchd "$WORK/produce.err" | head -n2)"
pass "the CLI's librdkafka client is churnwatch#producer"
