#!/usr/bin/env bash
# kafka_offset_reset.sh - a consumer position lost to retention is loud (docs/metrics.md
# "Data loss"): on a one-partition topic, the daemon commits its position and stops; more
# than the mock cluster keeps per partition (~5 MB) is produced meanwhile, so the committed
# offset falls off the log, as it does past retention on Kafka. The restarted daemon must
#   1. log one error naming the topic, the partition and the offset range lost;
#   2. count it on /metrics: churnwatch_offset_resets_total 1 and
#      churnwatch_messages_skipped_total = log start - committed offset;
#   3. go on consuming from the log start (the shipped auto.offset.reset, earliest): every
#      message still in the log is processed.
# A first start without a committed offset is not a reset: nothing is counted then; a new
# group on the cut log is warned about (the first offset it reads), not counted either.
source "$(dirname "$0")/harness.bash"

redis_start
mock_start 1
HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
CFG="$WORK/cw.yaml"
write_config "$CFG" "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$HTTP_PORT|"
grep -q "listen: 127.0.0.1:$HTTP_PORT" "$CFG" || fail "could not edit $CFG"
SERIES='{topic="usage-events",partition="0"}'
first_offset() { kcat -C -b "$BOOTSTRAP" -t usage-events -p 0 -o beginning -c 1 -e -q -f '%o\n'; }

# ---- 1. a first start: no committed offset, nothing lost ------------------------------
cli -c "$CFG" gen --accounts 2 --days 10 --seed 7 --end 2026-01-01T00:00:00Z -o "$WORK/first.jsonl"
N1=$(wc -l <"$WORK/first.jsonl")
cli -c "$CFG" produce "$WORK/first.jsonl" 2>/dev/null || fail "produce the first events"
run_daemon "$CFG" "$WORK/first.log"
wait_processed "$N1" 120
wait_for 30 curl -sf "$URL/metrics" || fail "/metrics did not answer"
[ "$(log_count 'msg="kafka partition has no committed offset"')" -ge 1 ] ||
  fail "the first start did not report the partition without a committed offset"
[ "$(log_count 'offset out of range')" = 0 ] || fail "a first start was reported as a loss"
[ "$(log_count 'starts after deleted messages')" = 0 ] || fail "a log from offset 0 was reported as cut"
[ -z "$(metric "churnwatch_offset_resets_total$SERIES")" ] ||
  fail "a first start counted an offset reset"
curl -s "$URL/metrics" >"$WORK/metrics.txt" # whole: grep -q on a pipe would cut it short
grep -q '^# TYPE churnwatch_offset_resets_total counter$' "$WORK/metrics.txt" ||
  fail "/metrics does not declare churnwatch_offset_resets_total"
daemon_stop
pass "a first start (no committed offset) is not counted as a reset"

# ---- 2. more than the partition keeps, produced while the daemon is stopped -----------
cli -c "$CFG" gen --accounts 20 --days 90 --seed 8 --end 2026-01-01T00:00:00Z -o "$WORK/more.jsonl"
N2=$(wc -l <"$WORK/more.jsonl")
cli -c "$CFG" produce "$WORK/more.jsonl" 2>/dev/null || fail "produce the second events"
LO=$(first_offset)
HI=$((N1 + N2))
[ -n "$LO" ] && [ "$LO" -gt "$N1" ] ||
  fail "the mock kept offset $N1 (log start ${LO:-unknown}): produce more to force a reset"
SKIPPED=$((LO - N1))

run_daemon "$CFG" "$WORK/second.log"
wait_log_count 'msg="kafka offset out of range, messages skipped"' 1 120
line=$(grep 'msg="kafka offset out of range, messages skipped"' "$WORK/second.log")
for field in level=error topic=usage-events partition=0 "lost_first=$N1" "lost_last=$((LO - 1))" \
  "skipped=$SKIPPED" "resume_offset=$LO" resume=earliest; do
  [[ " $line " == *" $field "* ]] || fail "the error line lacks $field: $line"
done
pass "the reset is logged as an error with the range lost ($N1..$((LO - 1)), $SKIPPED messages)"

wait_processed $((HI - LO)) 300
wait_for 30 test "$(metric "churnwatch_offset_resets_total$SERIES")" = 1 ||
  fail "churnwatch_offset_resets_total$SERIES is '$(metric "churnwatch_offset_resets_total$SERIES")', not 1"
got=$(metric "churnwatch_messages_skipped_total$SERIES")
[ "$got" = "$SKIPPED" ] || fail "churnwatch_messages_skipped_total$SERIES is '$got', not $SKIPPED"
[ "$(log_count 'offset out of range')" = 1 ] || fail "more than one reset logged"
pass "counted on /metrics (1 reset, $SKIPPED skipped) and every message left in the log processed ($((HI - LO)))"
daemon_stop

# ---- 3. a new group on the cut log: a warning with the first offset, nothing counted ---
write_config "$WORK/new.yaml" "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$HTTP_PORT|" \
  's/^  group_id: churnwatch$/  group_id: churnwatch-new/'
grep -x '  group_id: churnwatch-new' "$WORK/new.yaml" >/dev/null || fail "could not edit the group id"
run_daemon "$WORK/new.yaml" "$WORK/third.log"
wait_log_count 'msg="kafka partition starts after deleted messages"' 1 120
line=$(grep 'msg="kafka partition starts after deleted messages"' "$WORK/third.log")
for field in level=warn topic=usage-events partition=0 "first_offset=$LO" "deleted=$LO"; do
  [[ " $line " == *" $field "* ]] || fail "the warning lacks $field: $line"
done
wait_processed $((HI - LO)) 300
[ -z "$(metric "churnwatch_offset_resets_total$SERIES")" ] || fail "a new group's start counted a reset"
pass "a new group starting on a log cut at $LO warns with the first offset and counts no reset"
