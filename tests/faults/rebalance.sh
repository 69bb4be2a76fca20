#!/usr/bin/env bash
# rebalance.sh - two daemons in one consumer group on a topic NOT keyed by account (the
# stream produced again without keys, so one account's events are spread over partitions
# at random and over both members), one member killed with -9 mid-stream (its partitions
# move to the other, which replays what was not committed), restarted later (a second
# rebalance). The result must equal the reference run over the user-keyed topic: the
# aggregates do not depend on partitioning; only the applied-offset watermarks o:TOPIC:P,
# which name the topic and its offsets, are left out of the comparison.
source "$(dirname "$0")/faults.bash"

stream_setup
reference_run

mock_cmd "topic events-rr $PARTITIONS"
# Without keys and without sticky batching, each message goes to a random partition. (With
# the default sticky.partitioning.linger.ms, whole runs of thousands of messages land on
# one partition, and the mock cluster, which keeps only about 5 MB per partition, drops the
# oldest before they are consumed, as a retention limit would.)
write_config "$WORK/produce-rr.yaml" \
  's|^  properties: {}$|  properties: {sticky.partitioning.linger.ms: "0"}|'
grep -q 'sticky.partitioning.linger.ms' "$WORK/produce-rr.yaml" || fail "could not set the partitioner"
REDIS_PORT=1 cli -c "$WORK/produce-rr.yaml" produce "$WORK/events.jsonl" --topic events-rr \
  --key none 2>>"$WORK/produce.log" || fail "churnwatch produce --key none"
run_config rr
sed -i 's|^  topics: \[usage-events\]$|  topics: [events-rr]|' "$WORK/rr.yaml"
grep -q 'topics: \[events-rr\]' "$WORK/rr.yaml" || fail "could not set the topic"
redis_new rr
RR_PORT=$REDIS_PORT
export CW_TOPIC=events-rr # applied() counts this topic's watermarks
DUMP_EXCLUDE=' o:'
sed -i "/ o:/d" "$WORK/ref.dump"

run_daemon "$WORK/rr.yaml" "$WORK/rr-a.log"
A=$DAEMON_PID
run_daemon "$WORK/rr.yaml" "$WORK/rr-b.log"
B=$DAEMON_PID
pct=$((25 + RANDOM % 30))
wait_applied "$RR_PORT" $((N * pct / 100)) 120
grep -q 'msg="batch processed"' "$WORK/rr-a.log" && grep -q 'msg="batch processed"' "$WORK/rr-b.log" ||
  echo "note: rebalance: one member had processed nothing before the kill" >&2
kill -9 "$A"
wait "$A" 2>/dev/null || true
echo "member A killed at ${pct}% ($(applied "$RR_PORT") events applied)"
DAEMON_PID=$B DAEMON_LOG="$WORK/rr-b.log"
wait_applied "$RR_PORT" $((N * (pct + 20) / 100)) 120
run_daemon "$WORK/rr.yaml" "$WORK/rr-a2.log"
A=$DAEMON_PID
DAEMON_PID=$B DAEMON_LOG="$WORK/rr-b.log"
wait_applied "$RR_PORT" "$N" 180
kill -TERM "$A"
wait "$A" || fail "rebalance: member A exited non-zero on SIGTERM"
finish_run rr "$WORK/rr.yaml"
# every message still in the topic (none dropped by the mock's size limit)
[ "$(kcat -C -b "$BOOTSTRAP" -t events-rr -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)" -eq "$N" ] ||
  fail "rebalance: the mock cluster dropped messages of events-rr (per-partition size limit)"
compare rr "$RR_PORT" "$WORK/rr.yaml"
summary
