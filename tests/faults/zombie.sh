#!/usr/bin/env bash
# zombie.sh - fault: a member frozen in the middle of a batch (a long pause, a network split)
# loses its partitions to another member and then wakes up and finishes that batch with its
# stale copies of the accounts (docs/state.md "Accounts owned in memory": fencing). The
# topic is keyed by account, so until the freeze member A alone owns every account, and
# member B alone while A is frozen. A stops itself just before a batch's Redis write
# (CW_DEBUG_STALL_AT=before-redis-write:K, a test hook of the daemon); B joins, gets the
# partitions once A's session has timed out, and applies past A's batch; A is then
# continued. Asserted: A's write was fenced (its held copies conflicted with B's writes:
# cache_conflicts > 0 in its status line) and, with both members going on to the end, the
# result equals the uninterrupted reference run (faults.bash: compare).
source "$(dirname "$0")/faults.bash"

stream_setup
reference_run

mock_cmd "topic events-acct $PARTITIONS"
write_config "$WORK/produce-acct.yaml"
REDIS_PORT=1 cli -c "$WORK/produce-acct.yaml" produce "$WORK/events.jsonl" --topic events-acct \
  --key account 2>>"$WORK/produce.log" || fail "churnwatch produce --key account"
run_config zombie
sed -i 's|^  topics: \[usage-events\]$|  topics: [events-acct]|' "$WORK/zombie.yaml"
grep -q 'topics: \[events-acct\]' "$WORK/zombie.yaml" || fail "could not set the topic"
redis_new zombie
Z_PORT=$REDIS_PORT
export CW_TOPIC=events-acct # applied() counts this topic's watermarks
DUMP_EXCLUDE=' o:'
sed -i "/ o:/d" "$WORK/ref.dump"

frozen() { [ "$(ps -o stat= -p "$1" | cut -c1)" = T ]; }
k=$((4 + RANDOM % 12))
run_daemon "$WORK/zombie.yaml" "$WORK/zombie-a.log" CW_DEBUG_STALL_AT="before-redis-write:$k"
A=$DAEMON_PID
wait_for 180 frozen "$A" || fail "member A did not stop itself before write $k"
at_freeze=$(applied "$Z_PORT")
[ "$at_freeze" -lt "$N" ] || fail "member A applied the whole stream before freezing"
echo "member A frozen before its write $k ($at_freeze of $N events applied)"

run_daemon "$WORK/zombie.yaml" "$WORK/zombie-b.log"
B=$DAEMON_PID
# B owns every partition once A's session (3 s) has timed out; let it get well past A.
wait_applied "$Z_PORT" $((at_freeze + (N - at_freeze) / 3)) 180
echo "member B applied up to $(applied "$Z_PORT") while A was frozen"
kill -CONT "$A"
# A finishes its batch (fenced), finds it left the group, rejoins; both go on to the end.
wait_applied "$Z_PORT" "$N" 180
kill -TERM "$A"
wait "$A" || fail "zombie: member A exited non-zero on SIGTERM"
conflicts=$(sed -n 's/.*msg="status".* cache_conflicts=\([0-9]*\).*/\1/p' "$WORK/zombie-a.log" | tail -n1)
[ -n "$conflicts" ] || fail "zombie: no status line from member A"
[ "$conflicts" -gt 0 ] || fail "zombie: member A wrote with its stale copies unfenced (cache_conflicts=0)"
pass "zombie: member A's stale writes were fenced ($conflicts accounts conflicted)"
finish_run zombie "$WORK/zombie.yaml"
[ "$(kcat -C -b "$BOOTSTRAP" -t events-acct -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)" -eq "$N" ] ||
  fail "zombie: the mock cluster dropped messages of events-acct (per-partition size limit)"
compare zombie "$Z_PORT" "$WORK/zombie.yaml"
summary
