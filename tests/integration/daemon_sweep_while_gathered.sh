#!/usr/bin/env bash
# daemon_sweep_while_gathered.sh - a sweep that runs while a batch gathered during the last
# one's pass waits scores at the clock the last batch was scored at, never at a time whose
# events are not applied yet (docs/design.md "The next batch is gathered during the pass"),
# through the real daemon, catching up on a backlog (the clock then follows event time):
#   1. a history on one partition: 100 logins three days before the test's now, then 100
#      two days before, then 100 one day before; the daemon starts on it with batches of at
#      most 100 messages, and the lane thread of the first batch's pass is held before it
#      writes (test hook CW_DEBUG_HOLD_AT) until the second batch has begun gathering;
#   2. released, the first batch completes and the sweep's first page (its cycle began at
#      start, the clock unknown then) runs before the second batch is processed: it scores
#      at the first batch's clock (three days ago), although the clock has observed the
#      second batch's events (two days ago); every event is applied once in the end.
source "$(dirname "$0")/harness.bash"
test_clock

redis_start
mock_start 1
write_config "$WORK/cw.yaml"
URL="http://$(sed -n 's/^  listen: //p' "$WORK/cw.yaml")"

t0=$(date -u -d "$TEST_NOW" +%s)
python3 - "$WORK/history.jsonl" "$t0" <<'PY'
import sys, time
out, now = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    for days in (3, 2, 1):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - days * 86400))
        for a in range(100):
            f.write('{"event_id":"e-%d-%03d","account_id":"w-%03d","user_id":"u1",'
                    '"type":"login","ts":"%s"}\n' % (days, a, a, stamp))
PY
kcat -P -b "$BOOTSTRAP" -t usage-events -l "$WORK/history.jsonl" 2>>"$WORK/kcat.log" ||
  fail "kcat produce"

release=$WORK/release-lane
DAEMON_ARGS=(--batch 100 --batch-wait 30000)
daemon_start "$WORK/cw.yaml" "$WORK/daemon.log" CW_DEBUG_HOLD_AT=before-redis-write:1 \
  CW_DEBUG_HOLD_UNTIL="$release"

# ---- 1. the first batch's pass held, the second batch gathered --------------------------------
wait_log_count 'msg="test hook: thread held"' 1 60
wait_log_count 'msg="next batch begun during a pass"' 1 60
[ "$(log_count 'msg="sweep page"')" -eq 0 ] || fail "a sweep page before the first batch completed"
pass "the first batch's pass is held while the second batch gathers"

# ---- 2. released: the sweep scores at the first batch's clock ----------------------------------
touch "$release"
wait_log_count 'msg="sweep page"' 1 60
first_batch=$(grep -m1 'msg="batch processed"' "$WORK/daemon.log")
page=$(grep -m1 'msg="sweep page"' "$WORK/daemon.log")
t3=$(((t0 - 3 * 86400) * 1000))
[[ $first_batch == *" messages=100 "*" clock=$t3 "* ]] || fail "the first batch: $first_batch"
[[ $page == *" clock=$t3" ]] || fail "the sweep page after it scored at another clock than $t3: $page"
page_line=$(grep -n -m1 'msg="sweep page"' "$WORK/daemon.log" | cut -d: -f1)
[ "$(head -n "$page_line" "$WORK/daemon.log" | grep -c 'msg="batch processed"')" -eq 1 ] ||
  fail "the sweep page came after the second batch, not between the two"
wait_processed 300 120
wait_applied "$REDIS_PORT" 300 60
[ "$(metric churnwatch_replays_skipped_total)" = 0 ] ||
  fail "replays skipped: $(metric churnwatch_replays_skipped_total)"
pass "the sweep between the batches scored at the first batch's clock ($t3); all 300 applied once"
daemon_stop
