#!/usr/bin/env bash
# kill9.sh - fault: the daemon killed with -9 (or aborting at a crash point) at 10 instants
# while consuming one generated stream, restarted each time; the result must equal an
# uninterrupted reference run (faults.bash: compare). The instants:
#   - 6 at random (seeded, printed) numbers of events applied, plus 0-90 ms, two of them
#     in the first half;
#   - 2 aborts between a batch's Redis write and its offset commit
#     (CW_DEBUG_CRASH_AT=after-redis-write:N, a test hook of the daemon);
#   - 2 aborts between the broker's acknowledgement of alerts and the outbox clean-up and
#     offset commit (CW_DEBUG_CRASH_AT=after-alert-delivery:N): the alerts are published
#     again after the restart (same alert_id), which is the at-least-once of docs/alerts.md.
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
# hook_crash HOOK: the daemon (running with CW_DEBUG_CRASH_AT=HOOK) aborts at the hook.
# A hook fires only while there is work left to reach it (the Nth Redis write, the Nth
# alert delivery of this process): when the whole stream is applied and HOOK_GRACE_S
# more seconds (the last alerts' deliveries) pass without it, the daemon is killed with
# -9 instead, which counts as a kill. HOW tells which happened.
HOOK_GRACE_S=10
hooks_fired=()
hook_crash() {
  local done_at=""
  while kill -0 "$DAEMON_PID" 2>/dev/null; do
    if [ -z "$done_at" ] && [ "$(applied "$KILL_PORT")" -ge "$N" ]; then done_at=$SECONDS; fi
    [ -z "$done_at" ] || [ $((SECONDS - done_at)) -lt $HOOK_GRACE_S ] || break
    sleep 0.2
  done
  if kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -9 "$DAEMON_PID"
    HOW="kill -9: $1 not reached, the stream was all applied"
  else
    HOW="abort at $1"
    hooks_fired+=("${1%%:*}")
  fi
  crash
}
# random kill points: sorted fractions of the stream, seeded; two in the first half, so
# that the first two hooks (one of each kind) follow them with half the stream to go
mapfile -t points < <({
  for _ in 1 2; do echo $((5 + RANDOM % 40)); done
  for _ in 1 2 3 4; do echo $((5 + RANDOM % 90)); done
} | sort -n)
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
    hook_crash "$hook"
    after=$(applied "$KILL_PORT")
    echo "crash $kills: $HOW ($before -> $after events applied, $((SECONDS - T_START))s)"
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
for h in after-redis-write after-alert-delivery; do
  [[ " ${hooks_fired[*]} " == *" $h "* ]] || fail "no abort at $h (the stream ran out first)"
done
grep -q 'alert published' "$WORK"/kill-*.log || fail "no alert was published before a crash"
run_daemon "$WORK/kill.yaml" "$WORK/kill-$kills.log"
finish_run kill "$WORK/kill.yaml"
compare kill "$KILL_PORT" "$WORK/kill.yaml"
pass "kill -9 / abort x$kills"
summary
