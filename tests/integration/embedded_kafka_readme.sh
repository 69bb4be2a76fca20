#!/usr/bin/env bash
# embedded_kafka_readme.sh - the README's "Running it" pipeline, as a new user types it,
# loses nothing:
#   churnwatchd --embedded-kafka -c conf/churnwatch.yaml
#   churnwatch gen --end ... | churnwatch produce -
#   1. `produce`, given no broker, finds the embedded broker through the address file the
#      daemon publishes (churnwatchd(8) --embedded-kafka), and says so;
#   2. every one of the ~92k events of `gen`'s default history (the README's size, with a
#      fixed --end so the input is the same every run) is processed: the daemon's
#      messages_total equals what was produced, and no offset reset is counted (the
#      embedded topics are sized for it);
#   3. a graceful stop removes the address file.
source "$(dirname "$0")/harness.bash"

redis_start
HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
CFG="$WORK/cw.yaml"
write_config "$CFG" "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$HTTP_PORT|"
grep -q "listen: 127.0.0.1:$HTTP_PORT" "$CFG" || fail "could not edit $CFG"
# The address file lives in XDG_RUNTIME_DIR: a private one, as tests run in parallel.
export XDG_RUNTIME_DIR="$WORK/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
ADDR_FILE="$XDG_RUNTIME_DIR/churnwatch-embedded-kafka"
unset CHURNWATCH_KAFKA_BROKERS
export CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
END=2026-11-22T00:00:00Z # gen's default history (40 accounts, 90 days) ending here

DAEMON_LOG="$WORK/daemon.log"
: >>"$DAEMON_LOG" # exists before it is read (harness.bash, daemon_start)
CHURNWATCH_LOG_LEVEL=debug "$DAEMON" --embedded-kafka -c "$CFG" >>"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
wait_for 60 test -s "$ADDR_FILE" || fail "churnwatchd --embedded-kafka published no address in $ADDR_FILE"
grep -q "^pid=$DAEMON_PID bootstrap=127\.0\.0\.1:[0-9]" "$ADDR_FILE" ||
  fail "unexpected address file: $(cat "$ADDR_FILE")"
[ "$(stat -c %a "$ADDR_FILE")" = 600 ] || fail "the address file is not 0600"

"$CLI" -c "$CFG" gen --end "$END" -o "$WORK/events.jsonl"
N=$(wc -l <"$WORK/events.jsonl")
[ "$N" -gt 80000 ] || fail "gen's default history has only $N events: not the README's size"
"$CLI" -c "$CFG" gen --end "$END" | "$CLI" -c "$CFG" produce - 2>"$WORK/produce.err" ||
  fail "gen | produce - failed: $(cat "$WORK/produce.err")"
grep -q "producing to the embedded Kafka of churnwatchd (pid $DAEMON_PID)" "$WORK/produce.err" ||
  fail "produce did not say it used the embedded Kafka: $(cat "$WORK/produce.err")"
grep -q "produced $N messages" "$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
pass "gen | produce - reached the embedded Kafka ($N events)"

wait_processed "$N" 300
curl -s "$URL/metrics" >"$WORK/metrics.txt" || fail "/metrics did not answer"
[ "$(processed_total)" = "$N" ] || fail "processed $(processed_total) messages, produced $N"
resets=$(grep -c '^churnwatch_offset_resets_total{' "$WORK/metrics.txt" || true)
[ "$resets" = 0 ] || fail "offset resets counted: $(grep '^churnwatch_offset_resets_total{' "$WORK/metrics.txt")"
[ "$(log_count 'offset out of range')" = 0 ] || fail "the daemon lost a position: see $DAEMON_LOG"
pass "every produced event processed ($N), no offset reset"

daemon_stop
[ ! -e "$ADDR_FILE" ] || fail "the address file outlived the daemon"
pass "a graceful stop removes the address file"
