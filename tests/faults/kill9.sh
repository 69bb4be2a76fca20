#!/usr/bin/env bash
# kill9.sh - fault: the daemon killed with -9 (or aborting at a crash point) at 10 instants
# while consuming one generated stream, restarted each time; the result must equal an
# uninterrupted reference run (faults.bash: compare). The instants:
#   - 6 at random (seeded, printed) numbers of events applied, plus 0-90 ms;
#   - 2 aborts between a batch's Redis write and its offset commit
#     (CW_DEBUG_CRASH_AT=after-redis-write:N, a test hook of the daemon);
#   - 2 aborts between the broker's acknowledgement of alerts and the outbox clean-up and
#     offset commit (CW_DEBUG_CRASH_AT=after-alert-delivery:N): the alerts are published
#     again after the restart (same alert_id), which is the at-least-once of SPEC §8.
# A control run (a second uninterrupted run) shows how much closed alert episodes vary
# without any fault (see compare in faults.bash).
source "$(dirname "$0")/faults.bash"

stream_setup
reference_run

# control: no fault
run_config control
redis_new control
run_daemon "$WORK/control.yaml" "$WORK/control.log"
finish_run control "$WORK/control.yaml"
compare control "$REDIS_PORT" "$WORK/control.yaml"

run_config kill
redis_new kill
KILL_PORT=$REDIS_PORT
kills=0
crash() { # crash LOG-SUFFIX: the daemon (running) is stopped by kill -9 or its hook
  local rc=0
  wait "$DAEMON_PID" || rc=$?
  [ $rc -ne 0 ] || fail "kill run $kills: the daemon exited 0 instead of crashing"
  kills=$((kills + 1))
}
# random kill points: sorted fractions of the stream, seeded
mapfile -t points < <(for _ in 1 2 3 4 5 6; do echo $((5 + RANDOM % 90)); done | sort -n)
echo "kill -9 points (% of events applied): ${points[*]}"
hooks=("after-redis-write:$((2 + RANDOM % 5))" "after-alert-delivery:$((1 + RANDOM % 3))"
  "after-redis-write:$((5 + RANDOM % 20))" "after-alert-delivery:$((2 + RANDOM % 3))")
echo "crash hooks: ${hooks[*]}"
i=0
for pct in "${points[@]}"; do
  # interleave: a crash hook after each of the first kills
  if [ "$i" -ge 1 ] && [ "$i" -le ${#hooks[@]} ]; then
    hook=${hooks[$((i - 1))]}
    before=$(applied "$KILL_PORT")
    run_daemon "$WORK/kill.yaml" "$WORK/kill-$kills.log" CW_DEBUG_CRASH_AT="$hook"
    crash
    after=$(applied "$KILL_PORT")
    echo "crash $kills: abort at $hook ($before -> $after events applied, $((SECONDS - T_START))s)"
  fi
  i=$((i + 1))
  run_daemon "$WORK/kill.yaml" "$WORK/kill-$kills.log"
  if [ "$(applied "$KILL_PORT")" -lt $((N * pct / 100)) ]; then
    wait_applied "$KILL_PORT" $((N * pct / 100)) 120
  fi
  delay=$((RANDOM % 10))
  sleep "0.0$delay"
  kill -9 "$DAEMON_PID"
  crash
  echo "crash $kills: kill -9 at ${pct}% + ${delay}0 ms ($(applied "$KILL_PORT") events applied, $((SECONDS - T_START))s)"
done
[ "$kills" -ge 10 ] || fail "only $kills crashes"
grep -q 'alert published' "$WORK"/kill-*.log || fail "no alert was published before a crash"
run_daemon "$WORK/kill.yaml" "$WORK/kill-$kills.log"
finish_run kill "$WORK/kill.yaml"
compare kill "$KILL_PORT" "$WORK/kill.yaml"
pass "kill -9 / abort x$kills"
summary
