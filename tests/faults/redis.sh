#!/usr/bin/env bash
# redis.sh - faults of Redis while the daemon consumes one generated stream; each run must
# equal an uninterrupted reference run (faults.bash: compare):
#   aof:       redis-server (appendonly yes, appendfsync always) stopped for 10 s in the
#              middle of the stream and started again on the same port and data directory:
#              the daemon backs off, /readyz would say not ready, and resumes by itself;
#              a SIGHUP while a batch waits for Redis is carried out right after that
#              batch completes (it is processed under the config it was decoded with);
#   functions: the `churnwatch` function library removed (FUNCTION FLUSH, as after a
#              restart of a Redis that never persisted it) twice mid-stream: the daemon
#              loads it again and goes on.
source "$(dirname "$0")/faults.bash"

stream_setup
reference_run

# ---- aof --------------------------------------------------------------------------------
run_config aof
redis_new aof --appendonly yes --appendfsync always
AOF_PORT=$REDIS_PORT
run_daemon "$WORK/aof.yaml" "$WORK/aof.log"
pct=$((30 + RANDOM % 30))
wait_applied "$AOF_PORT" $((N * pct / 100)) 120
# a batch's tries that failed (the sweep's are logged otherwise)
batch_retries() { grep -c -e 'applying events to Redis failed' -e 'checking parent_id traits failed' "$WORK/aof.log" || true; }
retries=$(batch_retries)
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
batches=$(grep -c 'batch processed' "$WORK/aof.log")
echo "redis stopped at $batches batches (${pct}%)"
batch_retried() { [ "$(batch_retries)" -gt "$retries" ]; }
wait_for 60 batch_retried || fail "aof: no batch retried while Redis was down"
reloads=$(grep -c 'config reloaded' "$WORK/aof.log" || true)
kill -HUP "$DAEMON_PID"
sleep 10
kill -0 "$DAEMON_PID" || fail "aof: the daemon exited while Redis was down"
[ "$(grep -c 'config reloaded' "$WORK/aof.log" || true)" -eq "$reloads" ] ||
  fail "aof: reloaded while a batch waited for Redis"
REDIS_REUSE_PORT=$AOF_PORT redis_new aof --appendonly yes --appendfsync always
wait_for 60 grep -q 'config reloaded' "$WORK/aof.log" || fail "aof: the SIGHUP was not carried out"
# the batch that waited completes first, then the reload (awk: the line numbers)
order=$(awk -v b="$batches" '/batch processed/ && ++n == b + 1 { bl = NR }
  /config reloaded/ && !rl { rl = NR } END { print (bl && rl && bl < rl) ? "ok" : bl " " rl }' "$WORK/aof.log")
[ "$order" = ok ] || fail "aof: the reload did not follow the batch that waited for Redis (lines $order)"
finish_run aof "$WORK/aof.yaml"
compare aof "$AOF_PORT" "$WORK/aof.yaml"

# ---- functions --------------------------------------------------------------------------
run_config functions
redis_new functions
FN_PORT=$REDIS_PORT
run_daemon "$WORK/functions.yaml" "$WORK/functions.log"
for pct in $((20 + RANDOM % 20)) $((50 + RANDOM % 30)); do
  wait_applied "$FN_PORT" $((N * pct / 100)) 120
  [ "$(redis-cli -p "$FN_PORT" FUNCTION FLUSH SYNC)" = OK ] || fail "FUNCTION FLUSH"
  echo "functions flushed at ${pct}%"
done
finish_run functions "$WORK/functions.yaml"
redis-cli -p "$FN_PORT" FUNCTION LIST | grep churnwatch >/dev/null || fail "functions: the library was not loaded again"
compare functions "$FN_PORT" "$WORK/functions.yaml"
summary
