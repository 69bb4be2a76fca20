#!/usr/bin/env bash
# kafka_restart_leave.sh - a graceful stop hands the group its partitions back before the
# process exits (docs/operations.md "Rolling restarts"): after SIGTERM, with the default
# session timeout (45 s), the daemon
#   1. sends LeaveGroup and gets the coordinator's answer (librdkafka's cgrp debug line
#      "LeaveGroup response received"), then logs `kafka consumer left the group` with the
#      time it took, all before `stopped`, and never `did not leave the group in time`;
#   2. exits 0, and a new instance, once the group assigns it the partitions, consumes
#      what was produced meanwhile.
# How long the next instance then waits for its assignment is the broker's business: Kafka
# gives an emptied group to the next member after group.initial.rebalance.delay.ms (3 s by
# default); librdkafka 2.0.2's mock cluster keeps an emptied group waiting
# session.timeout.ms - 1 s for members that left, so that wait is not asserted here.
source "$(dirname "$0")/harness.bash"

redis_start
mock_start 4
CFG="$WORK/cw.yaml"
write_config "$CFG" \
  's|^  properties: {}$|  properties: {session.timeout.ms: "45000", debug: "cgrp"}|'
grep -q 'session.timeout.ms: "45000"' "$CFG" || fail "could not edit $CFG"

cli -c "$CFG" gen --accounts 4 --days 10 --seed 3 --end 2026-01-01T00:00:00Z -o "$WORK/ev.jsonl"
N=$(wc -l <"$WORK/ev.jsonl")
cli -c "$CFG" produce "$WORK/ev.jsonl" 2>/dev/null || fail "produce"
run_daemon "$CFG" "$WORK/first.log"
wait_processed "$N" 120

kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" = 0 ] || fail "SIGTERM: exit code $rc"
log=$WORK/first.log
line_of() { grep -n -- "$1" "$log" | head -n1 | cut -d: -f1 || true; }
leave=$(line_of 'LeaveGroup response received')
left=$(line_of 'msg="kafka consumer left the group"')
stopped=$(line_of 'msg="stopped"')
[ -n "$leave" ] || fail "no LeaveGroup answered before exit ($log)"
[ -n "$left" ] && [ -n "$stopped" ] && [ "$leave" -lt "$left" ] && [ "$left" -lt "$stopped" ] ||
  fail "expected LeaveGroup answered (line ${leave:-none}), then 'left the group' (${left:-none}), then 'stopped' (${stopped:-none})"
[ "$(log_count 'did not leave the group in time')" = 0 ] || fail "the close timed out"
pass "SIGTERM: LeaveGroup sent and answered, $(grep -o 'msg="kafka consumer left the group" took_ms=[0-9]*' "$log")"

# A new instance takes over (after the mock's rebalance delay, see above: bounded
# generously).
cli -c "$CFG" gen --accounts 4 --days 10 --seed 4 --end 2026-01-01T00:00:00Z -o "$WORK/ev2.jsonl"
N2=$(wc -l <"$WORK/ev2.jsonl")
cli -c "$CFG" produce "$WORK/ev2.jsonl" 2>/dev/null || fail "produce"
run_daemon "$CFG" "$WORK/second.log"
wait_processed "$N2" 180
pass "the next instance consumed the $N2 new messages"
