#!/usr/bin/env bash
# daemon_outbox.sh - alerts waiting in an account's outbox are published by the next sweep
# whatever the form of their key (docs/state.md "Alert outbox"): the current
# "<alert_id>:<rule>:<status>" and the previous "<alert_id>:<status>" that daemons wrote
# before the rule was in the key. Each is published exactly as stored, counted under its
# rule and status (from the key, or from an old entry's JSON), and acknowledged.
source "$(dirname "$0")/harness.bash"

redis_start
mock_start 1
write_config "$WORK/cw.yaml"
URL="http://$(sed -n 's/^  listen: //p' "$WORK/cw.yaml")"

# An account the sweep finds (the accounts index), with three entries left in its outbox.
ID_OLD_F=00112233445566778899aabbccddeeff
ID_OLD_M=0123456789abcdef0123456789abcdef
ID_NEW_R=ffeeddccbbaa99887766554433221100
alert() { # alert ID RULE STATUS [REMINDER]
  printf '{"schema":"churnwatch.alert.v1","alert_id":"%s","account_id":"acme","rule":"%s","status":"%s"%s}' \
    "$1" "$2" "$3" "${4:+,\"reminder\":true}"
}
rcli ZADD cw:accounts $(($(date +%s) / 86400)) acme >/dev/null
rcli HSET 'cw:{acme}:o' \
  "$ID_OLD_F:F" "$(alert "$ID_OLD_F" silent firing)" \
  "$ID_OLD_M:M1764806400123" "$(alert "$ID_OLD_M" health_drop firing 1)" \
  "$ID_NEW_R:health_low:R" "$(alert "$ID_NEW_R" health_low resolved)" >/dev/null
[ "$(rcli HLEN 'cw:{acme}:o')" = 3 ] || fail "could not fill the outbox"

daemon_start "$WORK/cw.yaml"
rescore_and_wait "$WORK/cw.yaml"

topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
for a in "$(alert "$ID_OLD_F" silent firing)" "$(alert "$ID_OLD_M" health_drop firing 1)" \
  "$(alert "$ID_NEW_R" health_low resolved)"; do
  [ "$(grep -cxF -- "$a" "$WORK/alerts.jsonl")" = 1 ] ||
    fail "not published once as stored: $a (topic: $(cat "$WORK/alerts.jsonl"))"
done
[ "$(wc -l <"$WORK/alerts.jsonl")" = 3 ] || fail "unexpected alerts: $(cat "$WORK/alerts.jsonl")"
pass "both key forms published as stored"

[ "$(rcli EXISTS 'cw:{acme}:o')" = 0 ] || fail "outbox not emptied: $(rcli HKEYS 'cw:{acme}:o')"
pass "every entry acknowledged"

while read -r rule status n; do
  got=$(metric "churnwatch_alerts_total{rule=\"$rule\",status=\"$status\"}")
  [ "$got" = "$n" ] || fail "alerts_total{rule=$rule,status=$status} is '$got', expected $n"
done <<'EXPECTED'
silent firing 1
health_drop reminder 1
health_low resolved 1
silent resolved 0
health_low firing 0
EXPECTED
pass "counted under the rule and status of each entry"
daemon_stop
