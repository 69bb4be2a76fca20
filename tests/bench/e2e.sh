#!/usr/bin/env bash
# e2e.sh - end-to-end throughput: the mock cluster filled with N events, a plain librdkafka
# consumer's raw rate over them, then churnwatchd consuming, applying to a real
# redis-server, scoring and committing them all, then the DIY consumer (diy_consumer.c: the
# consumer a platform team writes in an afternoon; diy_consumer.py, the same in Python, when
# Debian's python3-confluent-kafka and python3-redis are installed) over the same topic
# against the same redis-server, flushed; prints rates, Redis commands and CPU per event,
# the daemon's peak RSS, Redis memory per account, and churnwatchd's ratios to the DIY
# consumer and to raw.
#   bash tests/bench/e2e.sh [--events N] [--accounts N] [--partitions N] [--days D]
#                           [--batch N] [--cache-mb M] [--lanes K] [--kafka-prop NAME=VALUE]...
#                           [--seats] [--users] [--backfill] [--smoke]
# --cache-mb M: churnwatchd's redis.cache_mb (accounts held in memory; 0: none, every batch
# applied by Redis functions as before); default: the shipped config's.
# --lanes K: churnwatchd's redis.lanes (a batch's accounts split over K threads, each with
# its own connection; docs/design.md "Lanes"); default: the shipped config's.
# --kafka-prop NAME=VALUE: a librdkafka property in churnwatchd's kafka.properties (repeatable).
# Event times: the 20 hours before a fixed instant (test_clock), in random order; --days D
# spreads them over the D days before it instead, in time order (a backfill of history).
# --seats: each account's first event is a traits event (account_updated) giving it 5-200
# seats, so that, from min_observed_days (7) of events on, accounts have a health score
# (the shipped measures are per seat) and their rules are judged: every scoring then
# saves a history point and rule states, and alerts are published (the status line says
# how many). Without it no account of these streams has a score.
# --users: a users section (docs/users.md: points for five of the eight types, the default
# ranks, up to 200 users kept an account: every user of these streams), so that each
# event's points are kept per user too; the status lines then say how many users are kept.
# --backfill: 2,000,000 events, 20,000 accounts, 128 partitions, --days 20.
# --smoke: 2,000 events, 200 accounts, 8 partitions (CTest, label bench; no thresholds).
# Needs CW_BUILD_DIR (default ./build) and CW_SOURCE_DIR (default .).
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

EVENTS=500000 ACCOUNTS=20000 PARTITIONS=64 DAYS=0 BATCH="" CACHE_MB="" LANES="" SEATS=0 USERS=0
KAFKA_PROPS=()
while [ $# -gt 0 ]; do
  case $1 in
    --events) EVENTS=$2; shift 2 ;;
    --accounts) ACCOUNTS=$2; shift 2 ;;
    --partitions) PARTITIONS=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --seats) SEATS=1; shift ;;
    --users) USERS=1; shift ;;
    --batch) BATCH=$2; shift 2 ;;
    --cache-mb) CACHE_MB=$2; shift 2 ;;
    --lanes) LANES=$2; shift 2 ;;
    --kafka-prop) KAFKA_PROPS+=("$2"); shift 2 ;;
    --backfill) EVENTS=2000000 ACCOUNTS=20000 PARTITIONS=128 DAYS=20; shift ;;
    --smoke) EVENTS=2000 ACCOUNTS=200 PARTITIONS=8; shift ;;
    *) echo "usage: $0 [--events N] [--accounts N] [--partitions N] [--days D] [--batch N]" \
         "[--cache-mb M] [--lanes K] [--kafka-prop NAME=VALUE]... [--seats] [--users] [--backfill]" \
         "[--smoke]" >&2
       exit 2 ;;
  esac
done
for v in "$EVENTS" "$ACCOUNTS" "$PARTITIONS" "$DAYS" ${CACHE_MB:+"$CACHE_MB"} ${LANES:+"$LANES"}; do
  [[ $v =~ ^[0-9]+$ ]] || fail "not a whole number: $v"
done
for p in "${KAFKA_PROPS[@]}"; do
  [[ $p =~ ^[a-z.]+=[A-Za-z0-9._-]+$ ]] || fail "--kafka-prop $p: not NAME=VALUE"
done
[ "$DAYS" -le 25 ] || fail "--days $DAYS: at most 25 (the shipped config keeps 28 days)"
echo "command: bash tests/bench/e2e.sh --events $EVENTS --accounts $ACCOUNTS" \
  "--partitions $PARTITIONS --days $DAYS${BATCH:+ --batch $BATCH}${CACHE_MB:+ --cache-mb $CACHE_MB}${LANES:+ --lanes $LANES}$(
    for p in "${KAFKA_PROPS[@]}"; do printf ' --kafka-prop %s' "$p"; done)$(
    [ "$SEATS" = 1 ] && echo " --seats")$([ "$USERS" = 1 ] && echo " --users")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }
# redis_cpu_us: redis-server's CPU time so far (INFO cpu used_cpu_sys + used_cpu_user), in µs.
redis_cpu_us() {
  rcli info cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.0f", s * 1e6}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; } # A / B, 2 decimals
used_memory() { rcli info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }

# N native events (~170 bytes), ACCOUNTS accounts with up to 50 users each, the eight
# metric types, at a fixed instant (the same data and judgements at any time of day).
test_clock
python3 - "$EVENTS" "$ACCOUNTS" "$DAYS" "$(date -u -d "$TEST_NOW" +%s)" "$SEATS" >"$WORK/events.jsonl" <<'PY'
import random, sys, time
n, accounts, days, now, seats = (int(a) for a in sys.argv[1:6])
types = ["login", "user_registered", "app_created", "record_written", "seminar_attended",
         "email_clicked", "support_ticket", "help_viewed"]
rnd = random.Random(42)
end = now - 60
span = days * 86400
out = sys.stdout
first = 0
if seats:  # one traits event per account, the first of its events (part of the n)
    first = min(accounts, n)
    for a in range(first):
        out.write('{"event_id":"%032x","account_id":"acct-%06d","type":"account_updated",'
                  '"ts":"%s.000Z","traits":{"seats":%d}}\n' % (
                      rnd.getrandbits(128), a,
                      time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(end - (span or 72000) - 1)),
                      rnd.randrange(5, 201)))
for i in range(first, n):
    a = rnd.randrange(accounts)
    # no --days: the 20 hours before the end, at random; --days: in time order over them
    ts = end - span + (i * span) // n if span else end - rnd.randrange(72000)
    ms = rnd.randrange(1000)
    out.write('{"event_id":"%032x","account_id":"acct-%06d","user_id":"user-%06d-%02d",'
              '"type":"%s","ts":"%s.%03dZ"}\n' % (
                  rnd.getrandbits(128), a, a, rnd.randrange(50), rnd.choice(types),
                  time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)), ms))
PY
echo "events: $EVENTS, $(($(wc -c <"$WORK/events.jsonl") / EVENTS)) bytes each on average," \
  "$( [ "$DAYS" -gt 0 ] && echo "over the $DAYS days before $TEST_NOW, in time order" ||
    echo "over the 20 hours before $TEST_NOW, in random order")"

redis_start
mock_start "$PARTITIONS"
write_config "$WORK/cw.yaml" "s/^  listen: 127.0.0.1:9464\$/  listen: 127.0.0.1:$(free_port)/" \
  ${CACHE_MB:+"s/^  cache_mb: [0-9]*\$/  cache_mb: $CACHE_MB/"} ${LANES:+"s/^  lanes: [0-9]*\$/  lanes: $LANES/"}
! grep -q "^  listen: 127.0.0.1:9464\$" "$WORK/cw.yaml" || fail "could not set http.listen"
[ -z "$CACHE_MB" ] || grep "^  cache_mb: $CACHE_MB\$" "$WORK/cw.yaml" >/dev/null ||
  fail "could not set redis.cache_mb"
[ -z "$LANES" ] || grep "^  lanes: $LANES\$" "$WORK/cw.yaml" >/dev/null || fail "could not set redis.lanes"
if [ ${#KAFKA_PROPS[@]} -gt 0 ]; then
  props=$(for p in "${KAFKA_PROPS[@]}"; do printf '%s: "%s", ' "${p%%=*}" "${p#*=}"; done)
  sed -i -e "s/^  properties: {}\$/  properties: {${props%, }}/" "$WORK/cw.yaml"
  grep -q "^  properties: {${props%, }}\$" "$WORK/cw.yaml" || fail "could not set kafka.properties"
fi
if [ "$USERS" = 1 ]; then
  printf '%s\n' 'users:' '  weights: {login: 1, app_created: 5, seminar_attended: 10, email_clicked: 2, help_viewed: 1}' \
    >>"$WORK/cw.yaml"
fi
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
mem0=$(used_memory)
cpu0=$(redis_cpu_us)
t0=$(now)
: >>"$WORK/daemon.log" # exists before it is read (harness.bash, daemon_start)
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  CHURNWATCH_LOG_LEVEL=debug "$DAEMON" -c "$WORK/cw.yaml" ${BATCH:+--batch "$BATCH"} \
  >>"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
# CW_BENCH_PERF=DIR: perf record -g churnwatchd and redis-server while the daemon works;
# CW_BENCH_PERF_CALLGRAPH replaces the daemon's -g (e.g. "--call-graph dwarf,16384 -F 499":
# whole stacks through libc and hiredis, which frame pointers do not give).
PERF_PIDS=()
if [ -n "${CW_BENCH_PERF:-}" ]; then
  mkdir -p "$CW_BENCH_PERF"
  perf record -q ${CW_BENCH_PERF_CALLGRAPH:--g} -o "$CW_BENCH_PERF/churnwatchd.data" -p "$DAEMON_PID" 2>/dev/null &
  PERF_PIDS+=("$!")
  perf record -q -g -o "$CW_BENCH_PERF/redis-server.data" -p "$REDIS_PID" 2>/dev/null &
  PERF_PIDS+=("$!")
  PIDS+=("${PERF_PIDS[@]}")
fi
tfirst=""
end=$((SECONDS + 1800))
while :; do
  got=$(processed_total)
  [ -n "$got" ] && [ -z "$tfirst" ] && tfirst=$(now)
  [ -n "$got" ] && [ "$got" -ge "$EVENTS" ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "churnwatchd exited"
  [ $SECONDS -lt $end ] || fail "churnwatchd processed ${got:-0} of $EVENTS in 1800 s"
  sleep 0.05
done
t1=$(now)
cpu1=$(redis_cpu_us)
# The daemon's own CPU (user + system, in clock ticks): the whole process, and its main
# thread (the batch loop; librdkafka's threads fetch beside it).
ticks() { awk '{print $14 + $15}' "$1"; }
daemon_ticks=$(ticks "/proc/$DAEMON_PID/stat")
main_ticks=$(ticks "/proc/$DAEMON_PID/task/$DAEMON_PID/stat")
for p in "${PERF_PIDS[@]}"; do kill -INT "$p"; wait "$p" 2>/dev/null || true; done
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status")
# The accounts held in memory (redis.cache_mb), from the daemon's /metrics.
cache_line=$(python3 - "$(sed -n 's/^  listen: 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/cw.yaml")" <<'PY'
import sys, urllib.request
url = "http://127.0.0.1:%s/metrics" % sys.argv[1]
m = {}
for line in urllib.request.urlopen(url, timeout=10).read().decode().splitlines():
    if line.startswith("churnwatch_state_cache_"):
        k, v = line.split(" ", 1)
        m[k[len("churnwatch_state_cache_"):]] = float(v)
hits, misses = m.get("hits_total", 0), m.get("misses_total", 0)
print("%d accounts held in %.0f MB (budget %.0f MB); hit rate %.3f (%d hits, %d loads);"
      " %d evicted, %d conflicts" % (m.get("accounts", 0), m.get("bytes", 0) / 2**20,
      m.get("budget_bytes", 0) / 2**20, hits / (hits + misses) if hits + misses else 0,
      hits, misses, m.get("evictions_total", 0), m.get("conflicts_total", 0)))
PY
) || cache_line="(metrics not read)"
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
mem1=$(used_memory)
with_score=$(rcli zcard cw:scores) # the score index: accounts whose last scoring had a score
users_line=""
if [ "$USERS" = 1 ]; then # the users' engagement kept (:e hashes: users, and accounts with one)
  users_line=$(rcli eval "local n, k, c = 0, 0, '0'
    repeat
      local r = redis.call('SCAN', c, 'MATCH', 'cw:{*}:e', 'COUNT', 1000)
      c = r[1]
      for _, key in ipairs(r[2]) do n = n + redis.call('HLEN', key); k = k + 1 end
    until c == '0'
    return n .. ' users in ' .. k .. ' accounts'" 0)
fi
daemon_stop
# What the daemon judged: its last status line (logged as it stops).
last_status=$(grep 'msg="status"' "$WORK/daemon.log" | tail -n1)
scorings=$(echo "$last_status" | sed -n 's/.* scored=\([0-9]*\).*/\1/p')
# Not a timing: with seats and 7 observed days, accounts must have a score.
[ "$SEATS" = 0 ] || [ "$DAYS" -lt 8 ] || [ "${with_score:-0}" -gt 0 ] ||
  fail "--seats --days $DAYS: no account has a score"

e2e=$(echo "$EVENTS / ($t1 - $t0)" | bc)
steady=$(echo "$EVENTS / ($t1 - $tfirst)" | bc)
# The first message: the first batch was seen done at tfirst, after gathered_ms (from its
# first message on) and ms (its processing); tfirst is late by at most one poll (50 ms).
first_batch=$(grep -m1 'msg="batch processed"' "$WORK/daemon.log")
first_ms=$(($(echo "$first_batch" | sed -n 's/.* gathered_ms=\([0-9]*\).*/\1/p') +
  $(echo "$first_batch" | sed -n 's/.* ms=\([0-9]*\).*/\1/p')))
cw_first=$(awk -v n="$EVENTS" -v s="$(echo "$t1 - $tfirst" | bc)" -v ms="$first_ms" \
  'BEGIN {printf "%.0f", n / (s + ms / 1000)}')
cw_cpu=$(ratio $((cpu1 - cpu0)) "$EVENTS")
echo "churnwatchd: $EVENTS events in $(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s from start:" \
  "$e2e events/s ($cw_first from the first message, $steady from the first batch on;" \
  "ratio to raw $(echo "scale=2; $e2e / $raw_rate" | bc))"
echo "  redis CPU: $cw_cpu µs per event (INFO cpu, used_cpu_sys + used_cpu_user)"
hz=$(getconf CLK_TCK)
echo "  churnwatchd CPU: $(ratio $((daemon_ticks * 1000000 / hz)) "$EVENTS") µs per event," \
  "$(ratio $((main_ticks * 1000000 / hz)) "$EVENTS") in its main thread (/proc, user + system, from launch)"
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
echo "churnwatchd scorings: ${scorings:-?} (accounts with a score at the end: ${with_score:-?} of" \
  "$ACCOUNTS), $(echo "$last_status" | sed -n 's/.* alerts=\([0-9]*\).*/\1/p') alerts published"
echo "churnwatchd peak RSS (VmHWM): $((hwm / 1024)) MB (goal <= cache budget + 64 MB)"
echo "churnwatchd accounts in memory: $cache_line"
[ -z "$users_line" ] || echo "users' engagement kept (:e): $users_line"
echo "redis used_memory: $(((mem1 - mem0) / ACCOUNTS)) bytes per account over $ACCOUNTS accounts" \
  "(goal <= 2048; delta $(((mem1 - mem0) / 1024)) KiB)"

# run_diy NAME LABEL COMMAND...: a DIY consumer over the same topic (its own consumer group,
# from the beginning) against the same redis-server, flushed; prints its figures and sets
# RATE, FIRST (events/s from start, from the first message) and CPU (Redis µs per event).
run_diy() {
  local name=$1 label=$2 cpu0 cpu1 mem0 mem1
  shift 2
  rcli flushall >/dev/null
  rcli config resetstat >/dev/null
  mem0=$(used_memory)
  cpu0=$(redis_cpu_us)
  "$@" --brokers "$BOOTSTRAP" --topic usage-events --redis "127.0.0.1:$REDIS_PORT" \
    --group "$name-bench" --count "$EVENTS" --idle-timeout 120 \
    >"$WORK/$name.out" 2>"$WORK/$name.log" || fail "$name failed: $(tail -n3 "$WORK/$name.log")"
  cpu1=$(redis_cpu_us)
  mem1=$(used_memory)
  field() { sed -n "s/^messages=.* $1=\([0-9.]*\).*/\1/p" "$WORK/$name.out"; }
  [ "$(field bad)" = 0 ] || fail "$name skipped $(field bad) messages as bad"
  RATE=$(field rate)
  FIRST=$(field rate_from_first)
  CPU=$(ratio $((cpu1 - cpu0)) "$EVENTS")
  echo "$label: $EVENTS events in $(field seconds) s from start: $RATE events/s ($FIRST from" \
    "the first message), $(ratio "$(field redis_commands)" "$EVENTS") redis commands per event" \
    "in $(field flushes) pipelines"
  echo "  redis CPU: $CPU µs per event; redis used_memory: $(((mem1 - mem0) / ACCOUNTS)) bytes" \
    "per account"
}
run_diy diy_consumer "DIY consumer (C)" "$CW_BUILD_DIR/tests/diy_consumer"
diy=$RATE diy_first=$FIRST diy_cpu=$CPU
# The same in Python, where Debian's python3-confluent-kafka and python3-redis are installed.
py=""
if /usr/bin/python3 -c 'import confluent_kafka, redis' 2>/dev/null; then
  run_diy diy_consumer_py "DIY consumer (Python)" /usr/bin/python3 \
    "$CW_SOURCE_DIR/tests/bench/diy_consumer.py"
  py=$RATE py_first=$FIRST py_cpu=$CPU
else
  echo "DIY consumer (Python): skipped (/usr/bin/python3 lacks python3-confluent-kafka or python3-redis)"
fi

verdict() { [ "$(echo "$1" | bc)" = 1 ] && echo met || echo MISSED; }
echo "== against the DIY consumer: the same $EVENTS events on the same topic, each against" \
  "a flushed redis-server"
printf '%-14s %16s %20s %20s\n' contestant "events/s (start)" "events/s (1st msg)" \
  "redis CPU µs/event"
printf '%-14s %16s %20s %20s\n' "raw consume" "$raw_rate" "$raw_rate" "-"
printf '%-14s %16s %20s %20s\n' churnwatchd "$e2e" "$cw_first" "$cw_cpu"
printf '%-14s %16s %20s %20s\n' "DIY (C)" "$diy" "$diy_first" "$diy_cpu"
[ -z "$py" ] || printf '%-14s %16s %20s %20s\n' "DIY (Python)" "$py" "$py_first" "$py_cpu"
echo "churnwatchd / DIY (C), launch to done: $(ratio "$e2e" "$diy") (goal >= 2:" \
  "$(verdict "$e2e >= 2 * $diy")); from the first message: $(ratio "$cw_first" "$diy_first")"
[ -z "$py" ] || echo "churnwatchd / DIY (Python), launch to done: $(ratio "$e2e" "$py");" \
  "from the first message: $(ratio "$cw_first" "$py_first")"
echo "churnwatchd / raw, from the first message: $(ratio "$cw_first" "$raw_rate") (goal >= 0.5:" \
  "$(verdict "$cw_first >= 0.5 * $raw_rate"); 0.8 long-term)"
echo "churnwatchd redis CPU per event: $cw_cpu µs (goal <= 1: $(verdict "$cw_cpu <= 1"));" \
  "DIY consumer (C) $diy_cpu µs"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
