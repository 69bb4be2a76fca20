#!/usr/bin/env bash
# daemon_backlog_partition.sh - a partition whose backlog nobody has consumed yet (its member
# stalled and died; a partition added and filled with history) is history arriving now,
# not late events: lateness is judged against how far the event's own partition has got
# (docs/design.md "The clock"), never against other partitions that went live meanwhile.
# Partition 0 is consumed to the present first (the clock goes live); then partition 1
# receives an account's 29 days of history ending 12 days ago, older than the clock's
# lateness limit (28d window + 2d) for most of it: every event must be applied, none sent
# to the DLQ as too_late. A late event on a partition that has reached the present still is.
source "$(dirname "$0")/harness.bash"

test_clock
redis_start
mock_start 2
write_config "$WORK/cw.yaml"
python3 - "$(now_ms)" "$WORK" <<'PY'
import json, sys
now, work = int(sys.argv[1]), sys.argv[2]
DAY, HOUR = 86400000, 3600000
with open(f"{work}/current.jsonl", "w") as f:  # partition 0: the present
    for h in range(5, 0, -1):
        f.write(json.dumps({"event_id": f"c{h}", "account_id": "current", "user_id": "u1",
                            "type": "login", "ts": now - h * HOUR}) + "\n")
with open(f"{work}/history.jsonl", "w") as f:  # partition 1: history, 40 to 12 days ago
    for d in range(40, 11, -1):
        f.write(json.dumps({"event_id": f"h{d}", "account_id": "backlog", "user_id": f"u{d % 3}",
                            "type": "login", "ts": now - d * DAY}) + "\n")
with open(f"{work}/late.jsonl", "w") as f:  # partition 0 again: one event 45 days late
    f.write(json.dumps({"event_id": "late", "account_id": "current", "user_id": "u1",
                        "type": "login", "ts": now - 45 * DAY}) + "\n")
PY
kcat -P -b "$BOOTSTRAP" -t usage-events -p 0 -l "$WORK/current.jsonl" 2>>"$WORK/kcat.log" || fail "kcat produce"
daemon_start "$WORK/cw.yaml"
wait_processed 5 60
wait_log_count 'msg="clock live"' 1 60
kcat -P -b "$BOOTSTRAP" -t usage-events -p 1 -l "$WORK/history.jsonl" 2>>"$WORK/kcat.log" || fail "kcat produce"
wait_processed 34 60
kcat -P -b "$BOOTSTRAP" -t usage-events -p 0 -l "$WORK/late.jsonl" 2>>"$WORK/kcat.log" || fail "kcat produce"
wait_processed 35 60

dlq=$(topic_dump usage-events-dlq)
[ "$(grep -c . <<<"$dlq")" = 1 ] || fail "the DLQ holds $(grep -c . <<<"$dlq") messages, expected the late one only: $dlq"
grep -F '"event_id": "late"' <<<"$dlq" >/dev/null || fail "the DLQ holds another message: $dlq"
out=$(cli -c "$WORK/cw.yaml" account backlog --json) || fail "churnwatch account backlog"
first=$(rcli HGET 'cw:{backlog}:m' first_day)
[ "$first" = $(($(now_ms) / 86400000 - 40)) ] || fail "backlog's first day $first: its oldest events were not applied"
pass "the backlog of partition 1 applied whole (first day $first), the late event on partition 0 in the DLQ"
daemon_stop
