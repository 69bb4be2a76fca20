#!/usr/bin/env bash
# lanes.sh - a batch's accounts split over three lanes (redis.lanes: 3, docs/design.md
# "Lanes": a thread, a Redis connection, a share of the accounts in memory and a producer
# each) must give what one lane gives: an uninterrupted run, then one killed with -9 at two
# random instants and aborted once between a Redis write and its offsets
# (CW_DEBUG_CRASH_AT=after-redis-write:N, reached by whichever lane passes it Nth) and once
# between the alerts' acknowledgement and their outbox clean-up, each compared with a
# reference run of one lane (faults.bash: compare; the other scenarios run the shipped two).
source "$(dirname "$0")/faults.bash"

stream_setup
RUN_LANES=1
reference_run

RUN_LANES=3

run_config lanes
redis_new lanes
run_daemon "$WORK/lanes.yaml" "$WORK/lanes.log"
finish_run lanes "$WORK/lanes.yaml"
compare lanes "$REDIS_PORT" "$WORK/lanes.yaml"

run_config lanekill
redis_new lanekill
PORT=$REDIS_PORT
aborted() { # aborted LOG: the daemon (running) stopped by its crash hook or kill -9, not 0
  local rc=0
  wait "$DAEMON_PID" || rc=$?
  [ $rc -ne 0 ] || fail "lanekill: the daemon exited 0 instead of crashing ($1)"
}
mapfile -t points < <(for _ in 1 2; do echo $((10 + RANDOM % 70)); done | sort -n)
hooks=("after-redis-write:$((3 + RANDOM % 10))" "after-alert-delivery:$((1 + RANDOM % 2))")
echo "kill -9 points (% of events applied): ${points[*]}; crash hooks: ${hooks[*]}"
k=0 # runs so far
for i in 0 1; do
  pct=${points[$i]} hook=${hooks[$i]}
  run_daemon "$WORK/lanekill.yaml" "$WORK/lanekill-$k.log" CW_DEBUG_CRASH_AT="$hook"
  # the hook fires while there is work left; once everything is applied, kill -9 instead
  done_at=""
  while kill -0 "$DAEMON_PID" 2>/dev/null; do
    if [ -z "$done_at" ] && [ "$(applied "$PORT")" -ge "$N" ]; then done_at=$SECONDS; fi
    [ -z "$done_at" ] || [ $((SECONDS - done_at)) -lt 10 ] || kill -9 "$DAEMON_PID"
    sleep 0.2
  done
  aborted "$hook"
  echo "crash at $hook: $(applied "$PORT") events applied ($((SECONDS - T_START))s)"
  k=$((k + 1))
  run_daemon "$WORK/lanekill.yaml" "$WORK/lanekill-$k.log"
  [ "$(applied "$PORT")" -ge $((N * pct / 100)) ] || wait_applied "$PORT" $((N * pct / 100)) 120
  kill -9 "$DAEMON_PID"
  aborted "kill -9"
  echo "kill -9 at ${pct}%: $(applied "$PORT") events applied ($((SECONDS - T_START))s)"
  k=$((k + 1))
done
run_daemon "$WORK/lanekill.yaml" "$WORK/lanekill-$k.log"
finish_run lanekill "$WORK/lanekill.yaml"
compare lanekill "$PORT" "$WORK/lanekill.yaml"
pass "three lanes: uninterrupted, and killed or aborted x4"
summary
