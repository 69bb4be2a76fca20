#!/usr/bin/env bash
# signals.sh - signals while the daemon consumes one generated stream; each run must equal
# an uninterrupted reference run (faults.bash: compare):
#   hup:  a storm of 100 SIGHUPs (unchanged config) under load: every reload succeeds or
#         is coalesced, nothing is lost or counted twice;
#   term: SIGTERM under load at 3 seeded points, restarting each time: each stop exits 0
#         (bounded: the test gives it 60 s), logs "stopped", and the restart replays
#         nothing the stopped process had processed (the shutdown guarantee, docs/guarantees.md).
source "$(dirname "$0")/faults.bash"

stream_setup
reference_run

# ---- hup --------------------------------------------------------------------------------
run_config hup
redis_new hup
HUP_PORT=$REDIS_PORT
run_daemon "$WORK/hup.yaml" "$WORK/hup.log"
wait_applied "$HUP_PORT" $((N / 5)) 120
for ((i = 0; i < 100; i++)); do
  kill -HUP "$DAEMON_PID"
  sleep 0.02
done
kill -0 "$DAEMON_PID" || fail "hup: the daemon died in a SIGHUP storm"
[ "$(applied "$HUP_PORT")" -lt "$N" ] || echo "note: hup: the stream was consumed before the storm ended" >&2
reloads=$(log_count 'msg="config reloaded"')
[ "$reloads" -ge 1 ] || fail "hup: no reload logged"
! grep -q 'reload failed' "$WORK/hup.log" || fail "hup: a reload of the unchanged config failed"
echo "100 SIGHUPs: $reloads reloads"
finish_run hup "$WORK/hup.yaml"
compare hup "$HUP_PORT" "$WORK/hup.yaml"

# ---- term -------------------------------------------------------------------------------
run_config term
redis_new term
TERM_PORT=$REDIS_PORT
total=0
for pct in $((10 + RANDOM % 20)) $((40 + RANDOM % 20)) $((70 + RANDOM % 20)); do
  run_daemon "$WORK/term.yaml" "$WORK/term-$pct.log"
  wait_applied "$TERM_PORT" $((N * pct / 100)) 120
  t0=$(date +%s%N)
  kill -TERM "$DAEMON_PID"
  rc=0
  timeout 60 tail --pid="$DAEMON_PID" -f /dev/null || fail "term: not stopped 60 s after SIGTERM"
  wait "$DAEMON_PID" || rc=$?
  [ $rc -eq 0 ] || fail "term: exit code $rc after SIGTERM"
  grep -q 'msg="stopped"' "$DAEMON_LOG" || fail "term: no 'stopped' in $DAEMON_LOG"
  total=$((total + $(processed_total || echo 0)))
  echo "SIGTERM at ${pct}%: stopped in $((($(date +%s%N) - t0) / 1000000)) ms after $(processed_total) messages"
done
run_daemon "$WORK/term.yaml" "$WORK/term-last.log"
finish_run term "$WORK/term.yaml"
total=$((total + $(processed_total || echo 0)))
[ "$total" -eq "$N" ] ||
  fail "term: $total messages processed over the runs for $N in the stream (a graceful stop must commit what it processed)"
compare term "$TERM_PORT" "$WORK/term.yaml"
summary
