#!/usr/bin/env bash
# daemon_rule_conditions.sh - a rule's further conditions (`when`, docs/configuration.md
# "Further conditions") through the real daemon: of two accounts with the same low score,
# only the one that attended a seminar this week raises the compound rule, its reason says
# why, and a reload that tightens the condition resolves that episode with its own id.
source "$(dirname "$0")/harness.bash"

test_clock
redis_start
mock_start 1
RULE='    - {name: engaged_low, kind: score_below, enter: 40, exit: 50, touch: high, when: [{metric: seminars, window: short, above: SEMINARS}]}'
write_config "$WORK/cw.yaml" "/^  rules:\$/a\\${RULE/SEMINARS/0}"
grep -F -- "- {name: engaged_low" "$WORK/cw.yaml" >/dev/null || fail "rule not added to the config"
cli check-config "$WORK/cw.yaml" >/dev/null || fail "the test's config is invalid"

# Two accounts of 10 seats, one user logging in each day for 29 days (a low score, about
# 5): "engaged" also attended a seminar 3 days ago, "quiet" did not.
python3 - "$(now_ms)" >"$WORK/events.jsonl" <<'PY'
import json, sys
now = int(sys.argv[1])
DAY = 86400000
today = now - now % DAY
events = []
for acct in ("engaged", "quiet"):
    events.append({"event_id": f"{acct}-t", "account_id": acct, "type": "account_updated",
                   "ts": today - 29 * DAY + 3600000,
                   "traits": {"seats": 10, "created_at": "2024-01-15T00:00:00Z",
                              "renewal_at": "2027-06-15T00:00:00Z"}})
    for d in range(29, 0, -1):
        events.append({"event_id": f"{acct}-l{d}", "account_id": acct, "user_id": "u1",
                       "type": "login", "ts": today - d * DAY + 7200000})
events.append({"event_id": "engaged-s", "account_id": "engaged", "user_id": "u1",
               "type": "seminar_attended", "ts": today - 3 * DAY + 10800000})
for e in sorted(events, key=lambda e: e["ts"]):
    print(json.dumps(e))
PY
judge_history "$WORK/events.jsonl" "$WORK/cw.yaml"

alerts() { topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"; }
# field ACCOUNT RULE STATUS KEY: KEY of the last such alert ("" if none)
field() {
  python3 - "$WORK/alerts.jsonl" "$@" <<'PY'
import json, sys
path, acct, rule, status, key = sys.argv[1:]
found = ""
for line in open(path):
    a = json.loads(line)
    if (a["account_id"], a["rule"], a["status"]) == (acct, rule, status):
        found = str(a.get(key, ""))
print(found)
PY
}
alerts
[ -n "$(field quiet health_low firing alert_id)" ] || fail "quiet: no health_low ($(cat "$WORK/alerts.jsonl"))"
[ -n "$(field engaged health_low firing alert_id)" ] || fail "engaged: no health_low"
[ -z "$(field quiet engaged_low firing alert_id)" ] || fail "quiet: engaged_low fired without a seminar"
reason=$(field engaged engaged_low firing reason)
case "$reason" in
  "health score "*" fell below 40; and seminars over short (7d) = 1 > 0") ;;
  *) fail "engaged: engaged_low firing reason '$reason'" ;;
esac
[ "$(field engaged engaged_low firing touch)" = high ] || fail "engaged: engaged_low touch"
id=$(field engaged engaged_low firing alert_id)
pass "only the account that attended a seminar raised engaged_low: $reason"

# Tighten the condition (more than one seminar) and reload: the episode resolves.
sed -i -e "s/above: 0}]}/above: 1}]}/" "$WORK/cw.yaml"
mark=$(wc -l <"$(daemon_log)")
kill -HUP "$DAEMON_PID"
wait_log_after "$mark" 'msg="config reloaded"' 60 >/dev/null
rescore_and_wait "$WORK/cw.yaml"
alerts
[ "$(field engaged engaged_low resolved alert_id)" = "$id" ] ||
  fail "engaged_low not resolved with its id $id after the reload ($(cat "$WORK/alerts.jsonl"))"
[ "$(grep -c '"rule":"engaged_low"' "$WORK/alerts.jsonl")" = 2 ] || fail "engaged_low: not one firing and one resolved"
[ -z "$(field engaged health_low resolved alert_id)" ] || fail "health_low resolved too"
pass "the tightened condition resolved the episode ($id)"
daemon_stop
