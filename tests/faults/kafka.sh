#!/usr/bin/env bash
# kafka.sh - faults of the Kafka cluster (cw-kafka-mock, 3 brokers) while the daemon
# consumes one generated stream; the run must equal an uninterrupted reference run
# (faults.bash: compare). In one run, at seeded points of the stream:
#   - a broker down for 5 s and up again (rd_kafka_mock_broker_set_down/up);
#   - the leader of every usage-events partition moved to another broker;
#   - request errors injected: 20 Fetch (NOT_LEADER_FOR_PARTITION), 20 OffsetCommit
#     (COORDINATOR_NOT_AVAILABLE), 10 Produce (NOT_ENOUGH_REPLICAS, the alerts and DLQ
#     producer) and 5 Produce (_TRANSPORT: the connection is dropped).
source "$(dirname "$0")/faults.bash"

stream_setup 3
reference_run

run_config kafka
redis_new kafka
K_PORT=$REDIS_PORT
run_daemon "$WORK/kafka.yaml" "$WORK/kafka.log"
at() { wait_applied "$K_PORT" $((N * $1 / 100)) 120; }
p=$((10 + RANDOM % 10))
at $p
b=$((1 + RANDOM % 3))
mock_cmd "broker-down $b"
echo "broker $b down at ${p}%"
sleep 5
mock_cmd "broker-up $b"
p=$((30 + RANDOM % 10))
at $p
for ((part = 0; part < PARTITIONS; part++)); do
  mock_cmd "leader usage-events $part $((1 + (part + p) % 3))"
done
echo "leaders moved at ${p}%"
p=$((50 + RANDOM % 10))
at $p
mock_cmd "errors Fetch 20 NOT_LEADER_FOR_PARTITION"
mock_cmd "errors OffsetCommit 20 COORDINATOR_NOT_AVAILABLE"
mock_cmd "errors Produce 10 NOT_ENOUGH_REPLICAS"
mock_cmd "errors Produce 5 _TRANSPORT"
echo "request errors injected at ${p}%"
finish_run kafka "$WORK/kafka.yaml"
compare kafka "$K_PORT" "$WORK/kafka.yaml"
summary
