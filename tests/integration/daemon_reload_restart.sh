#!/usr/bin/env bash
# daemon_reload_restart.sh - a SIGHUP that changes keys read only at start tells the truth
# (docs/configuration.md, "Reload"; docs/metrics.md):
#   1. the daemon names its key prefix at start; churnwatch_config_keys_pending_restart is 0;
#   2. a reload changing kafka.group_id, redis.key_prefix and http.listen (and a log level,
#      which applies) logs one warning naming exactly those three keys, the gauge says 3,
#      and the daemon goes on under its running values: events still land under the old
#      prefix, /metrics still answers on the old port, nothing under the new prefix;
#   3. the CLI under the daemon's prefix is silent; under the file's new prefix (where no
#      daemon wrote) it warns that no account is known there;
#   4. reloading the original file again sets the gauge back to 0, with no new warning.
source "$(dirname "$0")/harness.bash"

redis_start
mock_start 2
HTTP_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
BASE="$WORK/base.yaml"
write_config "$BASE" \
  's|^  properties: {}$|  properties: {session.timeout.ms: "3000", heartbeat.interval.ms: "200"}|' \
  "s|^  listen: 127.0.0.1:9464\$|  listen: 127.0.0.1:$HTTP_PORT|"
CFG="$WORK/cw.yaml"
cp "$BASE" "$CFG"
run_daemon "$CFG" "$WORK/daemon.log"

wait_metric() { # wait_metric SERIES VALUE SECONDS
  local end=$((SECONDS + $3))
  until [ "$(metric "$1")" = "$2" ]; do
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "daemon exited while waiting for $1 = $2"
    [ $SECONDS -lt $end ] || fail "$1 is '$(metric "$1")', not $2, after $3s"
    sleep 0.2
  done
}
WARN='msg="configuration keys changed that take effect at restart"'

# ---- 1. start ----------------------------------------------------------------------------
wait_log_count 'msg="churnwatchd started"' 1 60
grep 'msg="churnwatchd started"' "$DAEMON_LOG" | grep -F 'key_prefix=cw:' >/dev/null ||
  fail "the start line does not name the key prefix: $(grep 'churnwatchd started' "$DAEMON_LOG")"
wait_metric churnwatch_config_keys_pending_restart 0 30
pass "start: key_prefix named, nothing pending"

# ---- 2. a reload of start-only keys --------------------------------------------------------
OTHER_PORT=$(free_port)
sed -e 's|^  key_prefix: "cw:"$|  key_prefix: "other:"|' -e 's|^  group_id: churnwatch$|  group_id: g2|' \
  -e "s|^  listen: 127.0.0.1:$HTTP_PORT\$|  listen: 127.0.0.1:$OTHER_PORT|" \
  -e 's|^  level: info$|  level: warn|' "$BASE" >"$CFG"
grep -q 'key_prefix: "other:"' "$CFG" && grep -q 'group_id: g2' "$CFG" &&
  grep -q "listen: 127.0.0.1:$OTHER_PORT" "$CFG" || fail "could not edit $CFG"
kill -HUP "$DAEMON_PID"
wait_metric churnwatch_config_reloads_total'{result="ok"}' 1 30
wait_metric churnwatch_config_keys_pending_restart 3 10
[ "$(log_count "$WARN")" = 1 ] || fail "$(log_count "$WARN") restart warnings, not 1"
grep -F "$WARN" "$DAEMON_LOG" | grep -F 'keys=kafka.group_id,redis.key_prefix,http.listen count=3' >/dev/null ||
  fail "the warning does not name exactly the changed keys: $(grep -F "$WARN" "$DAEMON_LOG")"
grep -q 'msg="kafka connection settings changed' "$DAEMON_LOG" &&
  fail "the old kafka-only warning is still logged"

# Events after the reload are stored under the running prefix, never the file's new one.
now_ms=$(($(date +%s) * 1000))
mkdir -p "$WORK/msgs"
for i in 1 2 3; do
  printf '{"event_id":"r-%s","account_id":"acme","user_id":"u-%s","type":"login","ts":%s}' \
    "$i" "$i" "$now_ms" >"$WORK/msgs/good-$i"
done
kcat -P -b "$BOOTSTRAP" -t usage-events "$WORK"/msgs/* 2>"$WORK/kcat.log" || fail "kcat produce"
wait_metric 'churnwatch_events_consumed_total{type="login"}' 3 60
scored() { [ "$(metric churnwatch_accounts_scored_total)" -ge 1 ]; }
wait_for 60 scored || fail "acme was not scored"
[ -n "$(rcli --scan --pattern 'cw:*' | head -n1)" ] || fail "nothing stored under cw:"
[ -z "$(rcli --scan --pattern 'other:*' | head -n1)" ] ||
  fail "keys stored under the file's new prefix before a restart: $(rcli --scan --pattern 'other:*')"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OTHER_PORT/metrics" || true)
[ "$status" = 000 ] || fail "http.listen moved without a restart (new port answered $status)"
pass "reload: one warning naming the 3 keys, gauge 3, running values kept"

# ---- 3. the CLI and the prefix -------------------------------------------------------------
cli -c "$BASE" top >"$WORK/top-base.txt" 2>"$WORK/top-base.err" || fail "churnwatch top (cw:)"
# (top's stderr also carries its "N scored, M shown" summary: only the prefix warning counts)
! grep -q 'no account is known under the Redis key prefix' "$WORK/top-base.err" ||
  fail "top under the daemon's prefix warned: $(cat "$WORK/top-base.err")"
cli -c "$CFG" top >"$WORK/top-other.txt" 2>"$WORK/top-other.err" || fail "churnwatch top (other:)"
grep -qF 'no account is known under the Redis key prefix "other:"' "$WORK/top-other.err" ||
  fail "top under an unused prefix did not warn: $(cat "$WORK/top-other.err")"
pass "cli: warns under a prefix no daemon scored under, silent under the daemon's"

# ---- 4. back to the running values ----------------------------------------------------------
cp "$BASE" "$CFG"
kill -HUP "$DAEMON_PID"
wait_metric churnwatch_config_reloads_total'{result="ok"}' 2 30
wait_metric churnwatch_config_keys_pending_restart 0 10
[ "$(log_count "$WARN")" = 1 ] || fail "a reload to the running values warned again"
daemon_stop
pass "reload to the running values: gauge 0, no warning"
