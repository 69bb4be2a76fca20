#!/usr/bin/env bash
# daemon_gather_during_pass.sh - the next batch is gathered while a batch's score pass runs
# in its lanes (docs/design.md "The next batch is gathered during the pass"), through the
# real daemon (--batch-wait 30 s, so that only the poll finding nothing ends a batch):
#   1. 200 logins over 20 accounts, two hours before the test's now; the lane thread that
#      takes the first batch's first chunk is held before it writes to Redis (test hook
#      CW_DEBUG_HOLD_AT, which holds that thread only, until a file exists);
#   2. meanwhile 150 more over 15 other accounts, an hour later: the main loop polls every
#      message (the consumer's lag reaches 0 on all four partitions) and decodes what the
#      held batch does not hold into the next one (its debug log "next batch begun during
#      a pass") while the lane is held, and no batch completes;
#   3. released, the held batch completes with the next one's messages counted
#      (next_gathered), and saves as its partitions' event-time floors its own events'
#      times, not the later ones the clock has seen since (the next batch's); the next
#      batch follows, and Redis holds all 350 events applied, once each (applied offsets,
#      no replay skipped).
# How the first 200 are split into batches depends on how fast they arrive (a batch ends
# when a poll finds nothing for a moment); the test does not depend on it.
source "$(dirname "$0")/harness.bash"
test_clock

redis_start
mock_start 4
write_config "$WORK/cw.yaml"
URL="http://$(sed -n 's/^  listen: //p' "$WORK/cw.yaml")"

# logins FILE FIRST COUNT HOURS_AGO: ten logins for each account g-FIRST.. (COUNT of them).
logins() {
  python3 - "$1" "$2" "$3" "$(($(date -u -d "$TEST_NOW" +%s) - $4 * 3600))" <<'PY'
import sys, time
out, first, count, ts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
with open(out, "w") as f:
    for a in range(first, first + count):
        for k in range(10):
            f.write('{"event_id":"e-%03d-%d","account_id":"g-%03d","user_id":"u%d",'
                    '"type":"login","ts":"%s"}\n' % (a, k, a, k, stamp))
PY
}

release=$WORK/release-lane
DAEMON_ARGS=(--batch-wait 30000)
daemon_start "$WORK/cw.yaml" "$WORK/daemon.log" CW_DEBUG_HOLD_AT=before-redis-write:1 \
  CW_DEBUG_HOLD_UNTIL="$release"

# ---- 1. the first batch's pass, one lane held ---------------------------------------------
logins "$WORK/first.jsonl" 0 20 2
cli -c "$WORK/cw.yaml" produce "$WORK/first.jsonl" --key account 2>>"$WORK/produce.log" ||
  fail "churnwatch produce"
wait_log_count 'msg="test hook: thread held"' 1 60
pass "a lane of the first batch's pass is held before its first write"

# ---- 2. the next batch gathered meanwhile --------------------------------------------------
logins "$WORK/second.jsonl" 20 15 1
cli -c "$WORK/cw.yaml" produce "$WORK/second.jsonl" --key account 2>>"$WORK/produce.log" ||
  fail "churnwatch produce"
# lag PARTITIONS SUM: the consumer_lag samples and their sum
lag() { curl -s "$URL/metrics" | awk '/^churnwatch_consumer_lag\{/ { n++; s += $2 } END { print n + 0, s + 0 }'; }
end=$((SECONDS + 60))
until [ "$(lag)" = "4 0" ]; do
  [ $SECONDS -lt $end ] || fail "not every message polled while the lane was held: lag $(lag)"
  sleep 0.2
done
wait_log_count 'msg="next batch begun during a pass"' 1 60
[ "$(log_count 'msg="batch processed"')" -eq 0 ] || fail "a batch completed while its lane was held"
[ "$(log_count 'msg="event-time floors saved"')" -eq 0 ] || fail "floors saved while the lane was held"
pass "every message polled and the next batch gathered while the lane is held"

# ---- 3. released: both batches complete, every event applied once --------------------------
touch "$release"
wait_log_count 'msg="test hook: thread released"' 1 60
wait_processed 350 120
first=$(grep -m1 'msg="batch processed"' "$WORK/daemon.log")
gathered=$(echo "$first" | sed -n 's/.* next_gathered=\([0-9]*\).*/\1/p')
[ -n "$gathered" ] && [ "$gathered" -gt 0 ] || fail "the first batch's line: $first"
t1=$((($(date -u -d "$TEST_NOW" +%s) - 7200) * 1000)) t2=$((t1 + 3600 * 1000))
floors=$(grep 'msg="event-time floors saved"' "$WORK/daemon.log" | sed -n 's/.* newest=\([0-9-]*\).*/\1/p')
[ "$(echo "$floors" | head -n1)" = "$t1" ] ||
  fail "the held batch saved floors up to $(echo "$floors" | head -n1), not its own events' $t1"
[ "$(echo "$floors" | tail -n1)" = "$t2" ] || fail "the last floors saved: $(echo "$floors" | tail -n1), not $t2"
wait_applied "$REDIS_PORT" 350 60
[ "$(rstate applied "$REDIS_PORT")" = 350 ] || fail "applied: $(rstate applied "$REDIS_PORT")"
[ "$(metric churnwatch_replays_skipped_total)" = 0 ] ||
  fail "replays skipped: $(metric churnwatch_replays_skipped_total)"
for a in 000 019 020 034; do
  [ "$(rcli HEXISTS "cw:{g-$a}:m" v)" = 1 ] || fail "account g-$a not stored"
done
pass "released: the held batch counted $gathered messages gathered during its pass and saved its own floors; all 350 applied once"
daemon_stop
