#!/usr/bin/env bash
# scaleout.sh - throughput of 1, 2 and 3 churnwatchd in one consumer group on a 3-master
# Redis Cluster (loopback), over one seeded un-keyed stream on 16 partitions; prints
# events/s, CPU seconds per process kind, Redis commands per event and memory per account.
# Not run by CTest (a benchmark prints numbers; it checks nothing but completion).
#   CW_BUILD_DIR=build CW_SOURCE_DIR=. bash tests/bench/scaleout.sh [ACCOUNTS] [DAYS]
source "$CW_SOURCE_DIR/tests/integration/harness.bash"
ACCOUNTS=${1:-200}
DAYS=${2:-30}

mock_start 16
MOCK_PID=${PIDS[0]}
"$CLI" gen --accounts "$ACCOUNTS" --days "$DAYS" --end now -o "$WORK/events.jsonl" >/dev/null
N=$(wc -l <"$WORK/events.jsonl")
# quick group membership: the mock broker finishes a rebalance only when every member
# rejoined, and the default session timeout makes the second and third member wait long
PROPS='s|^  properties: {}$|  properties: {session.timeout.ms: "3000", heartbeat.interval.ms: "200"}|'
write_config "$WORK/base.yaml"
# one random partition per message: the sticky partitioner's runs of thousands of
# messages on one partition overflow the mock broker's ~5 MB per partition
write_config "$WORK/produce.yaml" 's|^  properties: {}$|  properties: {sticky.partitioning.linger.ms: "0"}|'
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" "$CLI" -c "$WORK/produce.yaml" produce "$WORK/events.jsonl" \
  --key none >/dev/null 2>&1
for p in $(seq 0 15); do # nothing dropped: every partition still starts at offset 0
  lo=$(kcat -Q -b "$BOOTSTRAP" -t "usage-events:$p:-2" 2>/dev/null | awk '{print $NF}')
  [ "${lo:-x}" = 0 ] || fail "partition $p starts at offset ${lo:-?}: the broker dropped messages"
done
cluster_start 3
PORTS=$(IFS=,; echo "${CLUSTER_PORTS[*]}")
echo "stream: $N events, $ACCOUNTS accounts, $DAYS days, 16 partitions, un-keyed; cluster of 3 masters"
echo "columns: wall seconds from start (group join included) to every event applied;"
echo "  daemon-cpu / redis-cpu: CPU seconds of the daemons / all three masters;"
echo "  mock-cpu: CPU seconds of the mock Kafka broker (cw-kafka-mock);"
echo "  busy: (daemon + redis + mock CPU) / (wall x 2 cores), this run's share of the box;"
echo "  events/cpu-s: events per CPU second of daemons + masters (the mock broker not counted);"
echo "  cmds/event: Redis commands per event, those run inside functions included; fcall/event"
printf '%-9s %8s %10s %9s %10s %10s %9s %6s %12s %10s %11s\n' instances seconds events/s per-inst daemon-cpu redis-cpu mock-cpu busy events/cpu-s cmds/event fcall/event
for k in 1 2 3; do
  for p in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$p" flushall >/dev/null
    redis-cli -p "$p" config resetstat >/dev/null
  done
  write_config "$WORK/k$k.yaml" "s|^  group_id: churnwatch\$|  group_id: bench-$k|" "$PROPS" \
    's|^  listen: 127.0.0.1:[0-9]*$|  listen: ""|' # k daemons share one config
  r0=$(cpu_s "${CLUSTER_PIDS[@]}")
  m0=$(cpu_s "$MOCK_PID")
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
  m1=$(cpu_s "$MOCK_PID")
  calls=0 fcalls=0
  for p in "${CLUSTER_PORTS[@]}"; do
    redis-cli -p "$p" info commandstats | tr -d '\r' >"$WORK/cmdstat"
    c=$(sed -n 's/^cmdstat_[^:]*:calls=\([0-9]*\),.*/\1/p' "$WORK/cmdstat" | paste -sd+ | bc)
    f=$(sed -n 's/^cmdstat_fcall:calls=\([0-9]*\),.*/\1/p' "$WORK/cmdstat")
    calls=$((calls + c))
    fcalls=$((fcalls + ${f:-0}))
  done
  for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
  awk -v n="$N" -v k="$k" -v ns=$((t1 - t0)) -v d="$dcpu" -v r0="$r0" -v r1="$r1" -v c="$calls" \
    -v f="$fcalls" -v m=$(awk -v a="$m0" -v b="$m1" 'BEGIN {print b - a}') \
    'BEGIN { s = ns / 1e9; printf "%-9d %8.1f %10.0f %9.0f %10.1f %10.1f %9.1f %5.0f%% %12.0f %10.2f %11.3f\n",
             k, s, n / s, n / s / k, d, r1 - r0, m, 100 * (d + r1 - r0 + m) / (2 * s),
             n / (d + r1 - r0), c / n, f / n }'
done
mem=0
for p in "${CLUSTER_PORTS[@]}"; do
  m=$(redis-cli -p "$p" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
  e=$(redis-cli -p "$p" info memory | sed -n 's/^used_memory_startup:\([0-9]*\).*/\1/p')
  mem=$((mem + m - e))
  echo "master :$p keys=$(redis-cli -p "$p" dbsize) used_memory-startup=$((m - e)) bytes"
done
echo "memory per account (all masters, used_memory above startup): $((mem / ACCOUNTS)) bytes"
keys=0
for p in "${CLUSTER_PORTS[@]}"; do
  while read -r k; do
    keys=$((keys + $(redis-cli -p "$p" memory usage "$k" samples 0)))
  done < <(redis-cli -p "$p" --scan --pattern 'cw:{*}:*' | grep -v '^cw:{cw}')
done
echo "memory per account (MEMORY USAGE of its keys): $((keys / ACCOUNTS)) bytes"
