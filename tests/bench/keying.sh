#!/usr/bin/env bash
# keying.sh - what a topic not keyed by account costs: one seeded stream produced twice to
# the mock cluster, keyed by account and keyed by user (as RudderStack keys it: one
# account's events spread over every partition), each consumed by 1 and by 2 churnwatchd
# in one group against one flushed redis-server. Prints, per run, events/s launch to done,
# CPU seconds of the daemons and of Redis, Redis commands and FCALLs per event, and the
# accounts held in memory that were found written by the other instance (their batch then
# applied through the Redis functions: docs/design.md "Accounts owned in memory").
# Not run by CTest (a benchmark prints numbers; it checks nothing but completion).
#   CW_BUILD_DIR=build CW_SOURCE_DIR=. bash tests/bench/keying.sh [ACCOUNTS] [DAYS]
source "$CW_SOURCE_DIR/tests/integration/harness.bash"
ACCOUNTS=${1:-1000}
DAYS=${2:-10}
PARTS=16

mock_start "$PARTS"
mock_cmd "topic usage-by-user $PARTS"
"$CLI" gen --accounts "$ACCOUNTS" --days "$DAYS" --end now -o "$WORK/events.jsonl" >/dev/null
N=$(wc -l <"$WORK/events.jsonl")
write_config "$WORK/by-account.yaml"
write_config "$WORK/by-user.yaml" 's|^  topics: \[usage-events\]$|  topics: [usage-by-user]|'
grep -q 'topics: \[usage-by-user\]' "$WORK/by-user.yaml" || fail "could not adapt the topics"
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" "$CLI" -c "$WORK/by-account.yaml" produce \
  "$WORK/events.jsonl" --key account >/dev/null 2>&1 || fail "produce keyed by account"
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" "$CLI" -c "$WORK/by-user.yaml" produce \
  "$WORK/events.jsonl" --key user >/dev/null 2>&1 || fail "produce keyed by user"
for t in usage-events usage-by-user; do # nothing dropped: every partition starts at 0
  for ((p = 0; p < PARTS; p++)); do
    lo=$(kcat -Q -b "$BOOTSTRAP" -t "$t:$p:-2" 2>/dev/null | awk '{print $NF}')
    [ "${lo:-x}" = 0 ] || fail "$t/$p starts at offset ${lo:-?}: the broker dropped messages"
  done
done
redis_start
echo "stream: $N events, $ACCOUNTS accounts, $DAYS days, $PARTS partitions; one redis-server"
echo "columns: seconds launch to every event applied (group join included), events/s;"
echo "  daemon-cpu / redis-cpu: CPU seconds; cmds/event, fcall/event: Redis commands per"
echo "  event (those inside functions included), FCALLs per event; held-hits: accounts of a"
echo "  batch found held in memory; conflicts: of those, found written by the other instance"
printf '%-11s %9s %8s %9s %10s %9s %10s %11s %10s %9s\n' key instances seconds events/s \
  daemon-cpu redis-cpu cmds/event fcall/event held-hits conflicts
for key in account user; do
  topic=$([ "$key" = user ] && echo usage-by-user || echo usage-events)
  for k in 1 2; do
    rcli flushall >/dev/null
    rcli config resetstat >/dev/null
    pids=() ports=()
    r0=$(cpu_s "$REDIS_PID")
    t0=$(date +%s%N)
    for ((i = 1; i <= k; i++)); do
      port=$(free_port)
      write_config "$WORK/$key-$k-$i.yaml" "s|^  group_id: churnwatch\$|  group_id: bench-$key-$k|" \
        's|^  properties: {}$|  properties: {session.timeout.ms: "3000", heartbeat.interval.ms: "200"}|' \
        "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$port|" \
        "s|^  topics: \[usage-events\]\$|  topics: [$topic]|"
      CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
        CHURNWATCH_LOG_LEVEL=warn "$DAEMON" -c "$WORK/$key-$k-$i.yaml" >"$WORK/$key-$k-$i.log" 2>&1 &
      pids+=("$!")
      PIDS+=("$!")
      ports+=("$port")
    done
    CW_TOPIC=$topic rstate wait-applied "$REDIS_PORT" "$N" 600 >/dev/null ||
      fail "$key, $k instances: not all applied"
    t1=$(date +%s%N)
    dcpu=$(cpu_s "${pids[@]}")
    r1=$(cpu_s "$REDIS_PID")
    hits=0 conflicts=0
    for port in "${ports[@]}"; do
      hits=$((hits + $(metric churnwatch_state_cache_hits_total "http://127.0.0.1:$port")))
      conflicts=$((conflicts + $(metric churnwatch_state_cache_conflicts_total "http://127.0.0.1:$port")))
    done
    rcli info commandstats | tr -d '\r' >"$WORK/cmdstat"
    calls=$(sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' "$WORK/cmdstat" | paste -sd+ | bc)
    fcalls=$(sed -n 's/^cmdstat_fcall:calls=\([0-9]*\),.*/\1/p' "$WORK/cmdstat")
    for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
    awk -v key="$key" -v n="$N" -v k="$k" -v ns=$((t1 - t0)) -v d="$dcpu" -v r0="$r0" \
      -v r1="$r1" -v c="$calls" -v f="${fcalls:-0}" -v h="$hits" -v x="$conflicts" \
      'BEGIN { s = ns / 1e9; printf "%-11s %9d %8.1f %9.0f %10.1f %9.1f %10.2f %11.3f %10d %9d\n",
               key, k, s, n / s, d, r1 - r0, c / n, f / n, h, x }'
  done
done
