#!/usr/bin/env bash
# e2e.sh - end-to-end throughput: the mock cluster filled with N events, a plain librdkafka
# consumer's raw rate over them, then churnwatchd consuming, applying to a real
# redis-server, scoring and committing them all; prints rates, Redis commands per event,
# the daemon's peak RSS and Redis memory per account.
#   bash tests/bench/e2e.sh [--events N] [--accounts N] [--partitions N] [--batch N] [--smoke]
# --smoke: 2,000 events, 200 accounts, 8 partitions (CTest, label bench; no thresholds).
# Needs CW_BUILD_DIR (default ./build) and CW_SOURCE_DIR (default .).
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

EVENTS=500000 ACCOUNTS=20000 PARTITIONS=64 BATCH=""
while [ $# -gt 0 ]; do
  case $1 in
    --events) EVENTS=$2; shift 2 ;;
    --accounts) ACCOUNTS=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --smoke) EVENTS=2000 ACCOUNTS=200 PARTITIONS=8; shift ;;
    *) echo "usage: $0 [--events N] [--accounts N] [--partitions N] [--batch N] [--smoke]" >&2
       exit 2 ;;
  esac
done
echo "command: bash tests/bench/e2e.sh --events $EVENTS --accounts $ACCOUNTS" \
  "--partitions $PARTITIONS${BATCH:+ --batch $BATCH}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }

# N native events (~170 bytes), ACCOUNTS accounts with up to 50 users each, the eight
# metric types, event times spread over the 20 hours before now (all within lateness).
python3 - "$EVENTS" "$ACCOUNTS" >"$WORK/events.jsonl" <<'PY'
import random, sys, time
n, accounts = int(sys.argv[1]), int(sys.argv[2])
types = ["login", "user_registered", "app_created", "record_written", "seminar_attended",
         "email_clicked", "support_ticket", "help_viewed"]
rnd = random.Random(42)
end = int(time.time()) - 60
out = sys.stdout
for i in range(n):
    a = rnd.randrange(accounts)
    ts = end - rnd.randrange(72000)
    ms = rnd.randrange(1000)
    out.write('{"event_id":"%032x","account_id":"acct-%06d","user_id":"user-%06d-%02d",'
              '"type":"%s","ts":"%s.%03dZ"}\n' % (
                  rnd.getrandbits(128), a, a, rnd.randrange(50), rnd.choice(types),
                  time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)), ms))
PY
echo "events: $EVENTS, $(($(wc -c <"$WORK/events.jsonl") / EVENTS)) bytes each on average"

redis_start
mock_start "$PARTITIONS"
write_config "$WORK/cw.yaml" "s/^  listen: 127.0.0.1:9464\$/  listen: 127.0.0.1:$(free_port)/"
! grep -q "^  listen: 127.0.0.1:9464\$" "$WORK/cw.yaml" || fail "could not set http.listen"
t0=$(now)
cli -c "$WORK/cw.yaml" produce "$WORK/events.jsonl" --brokers "$BOOTSTRAP" --topic usage-events --key account \
  >"$WORK/produce.log" 2>&1 || fail "produce failed: $(tail -n3 "$WORK/produce.log")"
t1=$(now)
echo "produced: $(echo "$EVENTS / ($t1 - $t0)" | bc) events/s (churnwatch produce, keyed by account)"

# The raw rate: a plain consumer over the same topic, from the beginning to the end.
"$CW_BUILD_DIR/tests/raw_consume" "$BOOTSTRAP" usage-events "$PARTITIONS" >"$WORK/raw.out" ||
  fail "raw_consume failed"
raw_msgs=$(sed -n 's/^messages=\([0-9]*\).*/\1/p' "$WORK/raw.out")
raw_rate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' "$WORK/raw.out")
[ "$raw_msgs" -eq "$EVENTS" ] ||
  fail "the mock cluster kept $raw_msgs of $EVENTS events (bounded log per partition)"
echo "raw consume: $raw_msgs messages read back, $raw_rate events/s"

rcli config resetstat >/dev/null
mem0=$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')

t0=$(now)
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  CHURNWATCH_LOG_LEVEL=debug "$DAEMON" -c "$WORK/cw.yaml" ${BATCH:+--batch "$BATCH"} \
  >>"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
# CW_BENCH_PERF=DIR: perf record -g churnwatchd and redis-server while the daemon works.
PERF_PIDS=()
if [ -n "${CW_BENCH_PERF:-}" ]; then
  mkdir -p "$CW_BENCH_PERF"
  perf record -q -g -o "$CW_BENCH_PERF/churnwatchd.data" -p "$DAEMON_PID" 2>/dev/null &
  PERF_PIDS+=("$!")
  perf record -q -g -o "$CW_BENCH_PERF/redis-server.data" -p "$REDIS_PID" 2>/dev/null &
  PERF_PIDS+=("$!")
  PIDS+=("${PERF_PIDS[@]}")
fi
tfirst=""
end=$((SECONDS + 600))
while :; do
  got=$(processed_total)
  [ -n "$got" ] && [ -z "$tfirst" ] && tfirst=$(now)
  [ -n "$got" ] && [ "$got" -ge "$EVENTS" ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "churnwatchd exited"
  [ $SECONDS -lt $end ] || fail "churnwatchd processed ${got:-0} of $EVENTS in 600 s"
  sleep 0.05
done
t1=$(now)
for p in "${PERF_PIDS[@]}"; do kill -INT "$p"; wait "$p" 2>/dev/null || true; done
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status")
stats=$(rcli info commandstats)
[ -n "${CW_BENCH_STATS:-}" ] && echo "$stats" >"$CW_BENCH_STATS"
total_cmds=$(echo "$stats" | sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' | paste -sd+ | bc)
fcalls=$(echo "$stats" | sed -n 's/^cmdstat_fcall:calls=\([0-9]*\),.*/\1/p')
# Commands the churnwatch library never calls from inside a function: issued by the client.
lua_cmds=$(grep -oE "redis.p?call\('[A-Za-z]*'" "$CW_SOURCE_DIR/daemon/core/store_functions.lua" |
  sed -E "s/redis.p?call\('(.*)'/\1/" | tr 'A-Z' 'a-z' | sort -u | paste -sd'|')
client_only=$(echo "$stats" | grep -Ev "^cmdstat_($lua_cmds|fcall|info|config\|resetstat):" |
  sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' | paste -sd+ | bc)
shared=$(echo "$stats" | grep -E "^cmdstat_($lua_cmds):" | sed 's/,usec=.*//' | paste -sd' ')
mem1=$(rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
daemon_stop

e2e=$(echo "$EVENTS / ($t1 - $t0)" | bc)
steady=$(echo "$EVENTS / ($t1 - $tfirst)" | bc)
echo "churnwatchd: $EVENTS events in $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s from start:" \
  "$e2e events/s ($steady from the first batch on; ratio to raw $(echo "scale=2; $e2e / $raw_rate" | bc))"
echo "  goal: end-to-end >= 0.8 x raw: $( [ "$(echo "$e2e >= 0.8 * $raw_rate" | bc)" = 1 ] && echo met || echo MISSED)"
echo "redis commands per event: $(echo "scale=3; $total_cmds / $EVENTS" | bc) executed in total" \
  "(FCALL $(echo "scale=3; ${fcalls:-0} / $EVENTS" | bc), client-issued at least" \
  "$(echo "scale=3; (${fcalls:-0} + ${client_only:-0}) / $EVENTS" | bc))"
echo "  goal: <= 0.2 per event (taken as client-issued round trips): FCALL+other client" \
  "commands = $(echo "scale=3; (${fcalls:-0} + ${client_only:-0}) / $EVENTS" | bc)"
echo "  commands also called inside functions (client or function, not told apart): $shared"
echo "  all: $(echo "$stats" | grep '^cmdstat' | sed 's/,usec=.*//;s/cmdstat_//' | paste -sd' ')"
nb=$(grep -c 'msg="batch processed"' "$WORK/daemon.log" || true)
echo "batches: $nb, $((EVENTS / (nb > 0 ? nb : 1))) messages and" \
  "$(sed -n 's/.*msg="batch processed".* accounts=\([0-9]*\).*/\1/p' "$WORK/daemon.log" |
    awk '{s += $1} END {printf "%d", NR ? s / NR : 0}') accounts each on average"
[ -z "${CW_BENCH_LOG:-}" ] || cp "$WORK/daemon.log" "$CW_BENCH_LOG"
echo "churnwatchd peak RSS (VmHWM): $((hwm / 1024)) MB (goal <= 64 MB)"
echo "redis used_memory: $(((mem1 - mem0) / ACCOUNTS)) bytes per account over $ACCOUNTS accounts" \
  "(goal <= 2048; delta $(((mem1 - mem0) / 1024)) KiB)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
