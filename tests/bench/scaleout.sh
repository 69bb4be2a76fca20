#!/usr/bin/env bash
# scaleout.sh - throughput of 1, 2 and 3 churnwatchd in one consumer group on a 3-master
# Redis Cluster (loopback), over one seeded un-keyed stream on 16 partitions; prints
# events/s, CPU seconds per process kind, Redis commands per event and memory per account.
# Not run by CTest (a benchmark prints numbers; it checks nothing but completion).
#   CW_BUILD_DIR=build CW_SOURCE_DIR=. bash tests/bench/scaleout.sh [ACCOUNTS] [DAYS]
source "$CW_SOURCE_DIR/tests/integration/harness.bash"
ACCOUNTS=${1:-200}
DAYS=${2:-30}
rstate() { python3 "$CW_SOURCE_DIR/tests/integration/lib/rstate.py" "$@"; }
cpu_s() { # cpu_s PID...: user+system CPU seconds of the processes
  local t=0 p
  for p in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'
}

mock_start 16
"$CLI" gen --accounts "$ACCOUNTS" --days "$DAYS" --end now -o "$WORK/events.jsonl" >/dev/null
N=$(wc -l <"$WORK/events.jsonl")
write_config "$WORK/base.yaml"
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" "$CLI" -c "$WORK/base.yaml" produce "$WORK/events.jsonl" \
  --key none >/dev/null 2>&1
cluster_start 3
PORTS=$(IFS=,; echo "${CLUSTER_PORTS[*]}")
echo "stream: $N events, $ACCOUNTS accounts, $DAYS days, 16 partitions, un-keyed; cluster of 3 masters"
printf '%-9s %8s %10s %9s %10s %10s %12s %10s\n' instances seconds events/s per-inst daemon-cpu redis-cpu events/cpu-s cmds/event
for k in 1 2 3; do
  for p in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$p" flushall >/dev/null
    redis-cli -p "$p" config resetstat >/dev/null
  done
  write_config "$WORK/k$k.yaml" "s|^  group_id: churnwatch\$|  group_id: bench-$k|"
  r0=$(cpu_s "${CLUSTER_PIDS[@]}")
  t0=$(date +%s%N)
  pids=()
  for ((i = 1; i <= k; i++)); do
    CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_REDIS_URL="$CLUSTER_URL" \
      CHURNWATCH_LOG_LEVEL=warn "$DAEMON" -c "$WORK/k$k.yaml" >"$WORK/bench-$k-$i.log" 2>&1 &
    pids+=("$!")
    PIDS+=("$!")
  done
  rstate wait-applied "$PORTS" "$N" 600 >/dev/null || fail "$k instances: not all applied"
  t1=$(date +%s%N)
  dcpu=$(cpu_s "${pids[@]}")
  r1=$(cpu_s "${CLUSTER_PIDS[@]}")
  calls=0
  for p in "${CLUSTER_PORTS[@]}"; do
    c=$(redis-cli -p "$p" info commandstats | sed -n 's/.*calls=\([0-9]*\),.*/\1/p' | paste -sd+ | bc)
    calls=$((calls + c))
  done
  for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
  awk -v n="$N" -v k="$k" -v ns=$((t1 - t0)) -v d="$dcpu" -v r0="$r0" -v r1="$r1" -v c="$calls" \
    'BEGIN { s = ns / 1e9; printf "%-9d %8.1f %10.0f %9.0f %10.1f %10.1f %12.0f %10.1f\n",
             k, s, n / s, n / s / k, d, r1 - r0, n / (d + r1 - r0), c / n }'
done
mem=0
for p in "${CLUSTER_PORTS[@]}"; do
  m=$(redis-cli -p "$p" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
  e=$(redis-cli -p "$p" info memory | sed -n 's/^used_memory_startup:\([0-9]*\).*/\1/p')
  mem=$((mem + m - e))
  echo "master :$p keys=$(redis-cli -p "$p" dbsize) used_memory-startup=$((m - e)) bytes"
done
echo "memory per account (all masters, above startup): $((mem / ACCOUNTS)) bytes"
