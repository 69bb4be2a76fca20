#!/usr/bin/env bash
# daemon_http.sh - the operations endpoint (docs/metrics.md) on a running daemon:
#   1. /metrics is valid Prometheus text (promtool check metrics), served on 127.0.0.1;
#      /healthz and /readyz answer 200; unknown paths 404, other methods 405;
#   2. counters move with the events sent: consumed by type, rejected by code;
#   3. /readyz goes 503 while redis-server is stopped and back to 200 by itself once it is
#      restarted on the same port;
#   4. SIGHUP with a broken then a good config bumps config_reloads_total{result=...};
#   5. secrets planted in the config (the Redis password in redis.url, a SASL password
#      among the librdkafka properties) never appear in the daemon's output or /metrics;
#   and docs/metrics.md's example alerts are valid rules (promtool check rules).
source "$(dirname "$0")/harness.bash"

T_START=$SECONDS
awk '/^```yaml/ { f = 1; next } /^```/ { f = 0 } f' "$CW_SOURCE_DIR/docs/metrics.md" >"$WORK/rules.yml"
promtool check rules "$WORK/rules.yml" >"$WORK/promtool-rules.txt" 2>&1 ||
  { cat "$WORK/promtool-rules.txt" >&2; fail "docs/metrics.md: example alerts are not valid rules"; }
grep -q 'SUCCESS: [1-9]' "$WORK/promtool-rules.txt" || fail "docs/metrics.md: no example alerts"
REDIS_PW="Pw-redis-7f3a91"
SASL_PW="Pw-sasl-c21e08"

redis_start --requirepass "$REDIS_PW"
mock_start 2
HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
CFG="$WORK/cw.yaml"
write_config "$CFG" \
  "s|^  url: redis://127.0.0.1:6379/0\$|  url: redis://default:$REDIS_PW@127.0.0.1:$REDIS_PORT/0|" \
  "s|^  properties: {}\$|  properties: {session.timeout.ms: \"3000\", heartbeat.interval.ms: \"200\", sasl.password: \"$SASL_PW\"}|" \
  "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$HTTP_PORT|"
grep -q "$REDIS_PW@127.0.0.1:$REDIS_PORT" "$CFG" && grep -q "$SASL_PW" "$CFG" &&
  grep -q "listen: 127.0.0.1:$HTTP_PORT" "$CFG" || fail "could not edit $CFG"

# The harness's daemon_start would replace redis.url from the environment: start it here.
LOG="$WORK/daemon.log"
: >>"$LOG" # exists before it is read (harness.bash, daemon_start)
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_LOG_LEVEL=debug "$DAEMON" -c "$CFG" >>"$LOG" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# metric NAME{LABELS}: the value of one series (empty when absent).
wait_status() { # wait_status PATH CODE SECONDS
  local end=$((SECONDS + $3)) got
  until got=$(status "$URL$1") && [ "$got" = "$2" ]; do
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited while waiting for $1 $2"
    [ $SECONDS -lt $end ] || fail "$1 answered $got, not $2, within $3s"
    sleep 0.2
  done
}
wait_metric() { # wait_metric SERIES VALUE SECONDS
  local end=$((SECONDS + $3))
  until [ "$(metric "$1")" = "$2" ]; do
    [ $SECONDS -lt $end ] || fail "$1 is '$(metric "$1")', not $2, after $3s"
    sleep 0.2
  done
}

# ---- 1. the endpoint -----------------------------------------------------------------------

wait_status /healthz 200 30
wait_status /readyz 200 60
ss -ltn "sport = :$HTTP_PORT" | grep "127.0.0.1:$HTTP_PORT" >/dev/null ||
  fail "not listening on 127.0.0.1:$HTTP_PORT ($(ss -ltn "sport = :$HTTP_PORT" | tail -n +2))"
curl -s "$URL/metrics" >"$WORK/metrics-0.txt"
promtool check metrics <"$WORK/metrics-0.txt" >"$WORK/promtool-0.txt" 2>&1 ||
  { cat "$WORK/promtool-0.txt" >&2; fail "promtool check metrics (startup)"; }
for fam in events_consumed_total events_rejected_total batches_total batch_duration_seconds \
  redis_command_duration_seconds alerts_total consumer_lag accounts_scored_total \
  sweep_duration_seconds sweeps_total config_reloads_total build_info ready parents_rescored_total \
  state_txn_aborts_total sweep_skipped_total; do
  grep -q "^# TYPE churnwatch_$fam " "$WORK/metrics-0.txt" || fail "no family churnwatch_$fam"
done
[ "$(metric 'churnwatch_ready')" = 1 ] || fail "churnwatch_ready is not 1 while /readyz is 200"
curl -s -D "$WORK/h.txt" -o /dev/null "$URL/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/h.txt" || fail "/metrics content type"
[ "$(status "$URL/nope")" = 404 ] || fail "unknown path: not 404"
[ "$(status "$URL/metrics/x")" = 404 ] || fail "/metrics/x: not 404"
[ "$(status -X POST "$URL/metrics")" = 405 ] || fail "POST /metrics: not 405"
[ "$(status -X DELETE "$URL/readyz")" = 405 ] || fail "DELETE /readyz: not 405"
[ "$(status -I "$URL/healthz")" = 200 ] || fail "HEAD /healthz: not 200"
pass "endpoint: promtool-valid /metrics on 127.0.0.1:$HTTP_PORT, healthz/readyz 200, 404, 405"

# ---- 2. counters move with events ---------------------------------------------------------

login0=$(metric 'churnwatch_events_consumed_total{type="login"}')
json0=$(metric 'churnwatch_events_rejected_total{code="invalid_json"}')
miss0=$(metric 'churnwatch_events_rejected_total{code="missing_account_id"}')
[ -n "$login0" ] && [ -n "$json0" ] && [ -n "$miss0" ] || fail "series missing before events"
now_ms=$(($(date +%s) * 1000))
mkdir -p "$WORK/msgs"
for i in 1 2 3 4 5; do
  printf '{"event_id":"h-%s","account_id":"acme","user_id":"u-%s","type":"login","ts":%s}' \
    "$i" "$i" "$now_ms" >"$WORK/msgs/good-$i"
done
printf 'not json' >"$WORK/msgs/bad-1"
printf '{"account_id":"acme","type":"login"' >"$WORK/msgs/bad-2"
printf '{"type":"login","user_id":"u1"}' >"$WORK/msgs/bad-3"
kcat -P -b "$BOOTSTRAP" -t usage-events "$WORK"/msgs/* 2>"$WORK/kcat.log" || fail "kcat produce"
wait_metric 'churnwatch_events_consumed_total{type="login"}' $((login0 + 5)) 60
wait_metric 'churnwatch_events_rejected_total{code="invalid_json"}' $((json0 + 2)) 30
wait_metric 'churnwatch_events_rejected_total{code="missing_account_id"}' $((miss0 + 1)) 30
[ "$(metric 'churnwatch_batches_total')" -ge 1 ] || fail "batches_total did not move"
[ "$(metric 'churnwatch_batch_duration_seconds_count')" -ge 1 ] || fail "batch histogram empty"
[ "$(metric 'churnwatch_redis_command_duration_seconds_count')" -ge 1 ] ||
  fail "redis histogram empty"
[ "$(metric 'churnwatch_accounts_scored_total')" -ge 1 ] || fail "accounts_scored_total"
# the lag is published once a second, for partitions whose position is known
lag_series() { curl -s "$URL/metrics" | grep -c '^churnwatch_consumer_lag{topic="usage-events",partition="[01]"} 0$' || true; }
end=$((SECONDS + 20))
until [ "$(lag_series)" -eq 2 ]; do
  [ $SECONDS -lt $end ] || fail "consumer_lag: $(lag_series) of 2 partitions at 0 after 20s"
  sleep 0.2
done
curl -s "$URL/metrics" >"$WORK/metrics-1.txt"
promtool check metrics <"$WORK/metrics-1.txt" >"$WORK/promtool-1.txt" 2>&1 ||
  { cat "$WORK/promtool-1.txt" >&2; fail "promtool check metrics (after events)"; }
pass "counters: login +5, invalid_json +2, missing_account_id +1, lag for 2 partitions"

# ---- 3. /readyz across a Redis outage -----------------------------------------------------

redis_stop
wait_status /readyz 503 30
curl -s "$URL/readyz" | grep 'redis unreachable' >/dev/null || fail "/readyz 503 without the reason"
[ "$(status "$URL/healthz")" = 200 ] || fail "/healthz not 200 during the Redis outage"
[ "$(metric 'churnwatch_ready')" = 0 ] || fail "churnwatch_ready not 0 during the outage"
redis_start --requirepass "$REDIS_PW" # the same port
wait_status /readyz 200 60
pass "readyz: 503 (redis unreachable) while redis-server was stopped, 200 again by itself"

# ---- 4. reloads -----------------------------------------------------------------------------

ok0=$(metric 'churnwatch_config_reloads_total{result="ok"}')
err0=$(metric 'churnwatch_config_reloads_total{result="error"}')
cp "$CFG" "$WORK/good.yaml"
printf 'timezone: [broken\n' >>"$CFG"
kill -HUP "$DAEMON_PID"
wait_metric 'churnwatch_config_reloads_total{result="error"}' $((err0 + 1)) 20
cp "$WORK/good.yaml" "$CFG"
kill -HUP "$DAEMON_PID"
wait_metric 'churnwatch_config_reloads_total{result="ok"}' $((ok0 + 1)) 20
[ "$(metric 'churnwatch_config_reloads_total{result="error"}')" = $((err0 + 1)) ] ||
  fail "a good reload counted as an error"
pass "SIGHUP: broken config -> reloads{error} +1, good config -> reloads{ok} +1"

# ---- 5. secrets -----------------------------------------------------------------------------

curl -s "$URL/metrics" >"$WORK/metrics-2.txt"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "daemon exit code $?"
grep -q 'msg="rescore poll failed"' "$LOG" ||
  fail "the daemon logged nothing about Redis (the secret check would prove nothing)"
for f in "$LOG" "$WORK"/metrics-*.txt; do
  ! grep -qF -e "$REDIS_PW" -e "$SASL_PW" "$f" || fail "a planted password appears in $f"
done
pass "secrets: neither password in the daemon's output or /metrics"
pass "total $((SECONDS - T_START))s"
