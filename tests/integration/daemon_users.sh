#!/usr/bin/env bash
# daemon_users.sh - per-user engagement (docs/users.md) through the real daemon: a users
# section (points per event type, the default ranks, power users from A, at most 30 users
# kept an account) and a score measure on power_users. acme has a champion (S), a power user
# (A), a casual user (C) and one whose points left the 14-day window; crowd has 40 users,
# of whom 30 are kept. `churnwatch users` lists acme's users by points with rank, last day,
# trend and power flag; `churnwatch account` shows the rank counts, power_users as a metric
# and as a measure; the bound holds for crowd. champion_quiet fires once for acme's quiet
# champion and resolves when they return; power_users_below names the power users.
source "$(dirname "$0")/harness.bash"

test_clock
redis_start
mock_start 1
write_config "$WORK/cw.yaml" \
  '/^        - {name: new_users, metric: registrations/i\        - {name: power_people, metric: power_users, window: long, target: 2}' \
  '/^    - name: health_low$/i\    - {name: champion_gone, kind: champion_quiet, rank: A, after: 7d, severity: critical}\n    - {name: few_power_users, kind: power_users_below, enter: 3, exit: 4}'
cat >>"$WORK/cw.yaml" <<'YAML'
users:
  window: 14d
  weights: {login: 1, app_created: 5, seminar_attended: 10}
  max_tracked: 30
YAML
cli check-config "$WORK/cw.yaml" >/dev/null || fail "the test's config is invalid: $(cli check-config "$WORK/cw.yaml" 2>&1)"

python3 - "$(now_ms)" >"$WORK/events.jsonl" <<'PY'
import json, sys
now = int(sys.argv[1])
DAY = 86400000
today = now - now % DAY
ev = []
def add(acct, user, typ, ts, i):
    ev.append({"event_id": f"{acct}-{user}-{typ}-{i}", "account_id": acct, "user_id": user,
               "type": typ, "ts": ts})
for acct, seats in (("acme", 10), ("crowd", 50)):
    ev.append({"event_id": f"{acct}-t", "account_id": acct, "type": "account_updated",
               "ts": today - 29 * DAY, "traits": {"seats": seats, "created_at": "2024-01-15T00:00:00Z"}})
# champ: 10 days of 5 logins and an app (100 points: S), busier in the newer half (up)
for d in range(1, 11):
    for k in range(5):
        add("acme", "champ", "login", today - d * DAY + 3600000 + k, d * 10 + k)
    add("acme", "champ", "app_created", today - d * DAY + 7200000, d)
# power: 4 seminars (40 points: A), all in the older half (down)
for d in range(8, 12):
    add("acme", "power", "seminar_attended", today - d * DAY + 3600000, d)
# casual: 3 logins (C); gone: 30 seminars 20 days ago (outside the window)
for k in range(3):
    add("acme", "casual", "login", today - 2 * DAY + 3600000 + k, k)
for k in range(30):
    add("acme", "gone", "seminar_attended", today - 20 * DAY + 3600000 + k, k)
# a help view counts as activity but earns no points
add("acme", "reader", "help_viewed", today - DAY + 3600000, 0)
# crowd: 40 users, one login each
for u in range(40):
    add("crowd", f"c{u:02d}", "login", today - DAY + 3600000 + u, u)
ev.sort(key=lambda e: e["ts"])
for e in ev:
    print(json.dumps(e))
PY
judge_history "$WORK/events.jsonl" "$WORK/cw.yaml"

cli -c "$WORK/cw.yaml" users acme --json >"$WORK/users.json" || fail "churnwatch users acme --json"
cli -c "$WORK/cw.yaml" users acme >"$WORK/users.txt" || fail "churnwatch users acme"
cli -c "$WORK/cw.yaml" account acme --json >"$WORK/acme.json" || fail "churnwatch account acme --json"
cli -c "$WORK/cw.yaml" account acme >"$WORK/acme.txt" || fail "churnwatch account acme"
python3 - "$WORK" <<'PY' || fail "users and account of acme (see above)"
import json, sys
w = sys.argv[1]
u = json.load(open(f"{w}/users.json"))
got = [(x["user_id"], x["rank"], x["points"], x["power"], x["trend"]) for x in u["users"]]
want = [("champ", "S", 100, True, "up"), ("power", "A", 40, True, "down"),
        ("casual", "C", 3, False, "up")]
assert got == want, got
s = u["summary"]
assert s["power_users"] == 2 and s["ranked"] == 3 and s["power_rank"] == "A", s
assert s["ranks"] == {"SS": 0, "S": 1, "A": 1, "B": 0, "C": 1}, s["ranks"]
# gone's points were outside the window when applied (not kept); reader has none
assert s["tracked"] == 3 and s["users"] == 5, s
text = open(f"{w}/users.txt").read()
lines = [l.split() for l in text.splitlines() if l.startswith("  ") and not l.startswith("  user")]
assert [l[0] for l in lines[:3]] == ["champ", "power", "casual"], text
assert lines[0][1] == "S" and lines[0][-1] == "power", text
a = json.load(open(f"{w}/acme.json"))
assert a["users"]["power_users"] == 2, a["users"]
assert a["metrics"]["long"]["power_users"] == 2 and a["metrics"]["long"]["ranked_users"] == 3, a["metrics"]
m = a["measures"]["power_people"]
assert m["raw"] == 2 and m["target"] == 2 and m["na"] is None, m
assert "power users 2 (A or higher)  ranked 3  ranks SS=0 S=1 A=1 B=0 C=1" in open(f"{w}/acme.txt").read()
print("acme:", got)
PY
pass "users acme: champ S, power A (both power users), casual C by points, with trends; account acme: 2 power users as metric and measure"

cli -c "$WORK/cw.yaml" users crowd --json >"$WORK/crowd.json" || fail "churnwatch users crowd --json"
python3 - "$WORK/crowd.json" <<'PY' || fail "the bound (see above)"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["summary"]["tracked"] == 30 and c["summary"]["users"] == 40, c["summary"]
assert len(c["users"]) == 30 and all(x["rank"] == "C" and x["points"] == 1 for x in c["users"]), c["users"][:3]
PY
[ "$(rcli HLEN 'cw:{crowd}:e')" = 30 ] || fail "crowd's :e holds $(rcli HLEN 'cw:{crowd}:e') users"
[ "$(rcli TTL 'cw:{crowd}:e')" -gt 0 ] || fail "crowd's :e has no lifetime"
pass "crowd: 30 of its 40 users kept (users.max_tracked), the rest counted as users"

# Without a users section the command says what is missing.
write_config "$WORK/plain.yaml"
expect_rc=0
cli -c "$WORK/plain.yaml" users acme >/dev/null 2>"$WORK/plain.err" || expect_rc=$?
[ "$expect_rc" = 1 ] && grep -q "has no users section" "$WORK/plain.err" ||
  fail "users without a users section: exit $expect_rc, $(cat "$WORK/plain.err")"
pass "users without a users section exits 1 and names the missing section"

# The user rules (docs/alerts.md): champion_gone fired once for acme naming power (A, no
# points for 7 days or more), not for crowd (no champion); few_power_users for acme (2 power
# users, below 3), not for crowd (active since yesterday only: users.window not observed).
wait_log_count 'alert published.*account=acme rule=champion_gone status=firing' 1 60
topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
python3 - "$WORK/alerts.jsonl" <<'PY' || fail "user rules' alerts (see above)"
import json, re, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
q = [a for a in alerts if a["rule"] == "champion_gone"]
assert [(a["account_id"], a["status"]) for a in q] == [("acme", "firing")], q
assert q[0]["kind"] == "champion_quiet" and q[0]["users"] == ["power"] and q[0]["value"] == 1, q[0]
# judged first at the event-time clock of the backlog (yesterday) or later: quiet 7 or 8 days
assert re.fullmatch(r"1 champion \(A or higher\) without points for 7d or more: power \(A, quiet [78]d\)",
                    q[0]["reason"]), q[0]["reason"]
p = {a["account_id"]: a for a in alerts if a["rule"] == "few_power_users"}
assert p["acme"]["users"] == ["champ", "power"] and p["acme"]["value"] == 2, p["acme"]
assert "crowd" not in p, "crowd's first activity was yesterday: users.window not observed yet"
assert p["acme"]["reason"] == "2 power users (A or higher) below 3: champ (S), power (A)", p["acme"]["reason"]
print(q[0]["reason"], "|", p["acme"]["reason"])
PY
pass "champion_gone fired once for acme naming power; few_power_users for acme (champ, power), not for the young crowd"

# power comes back today: champion_gone resolves under the same alert id.
before=$(processed_total)
printf '%s\n' "{\"event_id\":\"power-back\",\"account_id\":\"acme\",\"user_id\":\"power\",\"type\":\"seminar_attended\",\"ts\":$(($(now_ms) - 60000))}" >"$WORK/back.jsonl"
kcat -P -b "$BOOTSTRAP" -t usage-events -l "$WORK/back.jsonl" 2>>"$WORK/kcat.log" || fail "kcat produce"
wait_processed "$((before + 1))" 120
wait_log_count 'alert published.*account=acme rule=champion_gone status=resolved' 1 60
topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
python3 - "$WORK/alerts.jsonl" <<'PY' || fail "champion_gone resolved (see above)"
import json, sys
q = [json.loads(l) for l in open(sys.argv[1])]
q = [a for a in q if a["rule"] == "champion_gone"]
assert [a["status"] for a in q] == ["firing", "resolved"] and q[0]["alert_id"] == q[1]["alert_id"], q
assert q[1]["users"] == [] and q[1]["reason"].startswith("no champion (A or higher) without points for 7d"), q[1]
PY
pass "power back: champion_gone resolved under the same alert id"
daemon_stop
