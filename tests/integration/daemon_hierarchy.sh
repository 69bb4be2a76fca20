#!/usr/bin/env bash
# daemon_hierarchy.sh - account hierarchies (docs/hierarchies.md) through the real daemon: a
# parent with three children (parent_id traits), an unrelated account with another parent,
# and a traits event naming its own account as parent. `top --parent` lists exactly the
# three children; `account PARENT` lists them with the scores `account CHILD` gives and
# their seat-weighted roll-up; the declining child's alert carries parent_id; the
# self-parent event is in the DLQ as bad_traits and changed nothing.
source "$(dirname "$0")/harness.bash"

test_clock
redis_start
mock_start 1
write_config "$WORK/cw.yaml"
cli check-config "$WORK/cw.yaml" >/dev/null || fail "the test's config is invalid"
grep -x '  rollup: seat_weighted_mean' "$WORK/cw.yaml" >/dev/null || fail "the shipped rollup changed"

# The parent "acme" and the unrelated "solo" have their own traits; the children have 10, 30
# and 20 seats: acme-jp with 9 users a day, acme-us with 12, acme-de with 8 users up to two
# weeks ago and then one (it declines). "solo" (parent "elsewhere") has one user a day. Last,
# a traits event of acme-jp naming acme-jp as its parent (rejected).
python3 - "$(now_ms)" >"$WORK/events.jsonl" <<'PY'
import json, sys
now = int(sys.argv[1])
DAY = 86400000
today = now - now % DAY
events = []
def traits(acct, **t):
    t.update({"created_at": "2024-01-15T00:00:00Z", "renewal_at": "2027-06-15T00:00:00Z"})
    events.append({"event_id": f"{acct}-t", "account_id": acct, "type": "account_updated",
                   "ts": today - 29 * DAY + 3600000, "traits": t})
traits("acme", seats=100)
traits("acme-jp", seats=10, parent_id="acme")
traits("acme-us", seats=30, parent_id="acme")
traits("acme-de", seats=20, parent_id="acme")
traits("solo", seats=10, parent_id="elsewhere")
for d in range(29, 0, -1):
    users = {"acme-jp": 9, "acme-us": 12, "acme-de": 8 if d > 14 else 1, "solo": 1, "acme": 40}
    for acct, n in users.items():
        for u in range(n):
            events.append({"event_id": f"{acct}-l{d}-{u}", "account_id": acct,
                           "user_id": f"u{u}", "type": "login", "ts": today - d * DAY + 7200000 + u})
events.sort(key=lambda e: e["ts"])
events.append({"event_id": "acme-jp-self", "account_id": "acme-jp", "type": "account_updated",
               "ts": today - DAY, "traits": {"parent_id": "acme-jp", "seats": 99}})
for e in events:
    print(json.dumps(e))
PY
judge_history "$WORK/events.jsonl" "$WORK/cw.yaml"

# The self-parent event: in the DLQ as bad_traits, and acme-jp kept its traits.
topic_dump_headers usage-events-dlq >"$WORK/dlq.txt"
[ "$(grep -c 'acme-jp-self' "$WORK/dlq.txt")" = 1 ] || fail "self-parent not in the DLQ: $(cat "$WORK/dlq.txt")"
[ "$(grep -c 'churnwatch-error=bad_traits' "$WORK/dlq.txt")" = 1 ] || fail "DLQ code: $(cat "$WORK/dlq.txt")"
[ "$(grep -c 'is the account itself' "$WORK/dlq.txt")" = 1 ] || fail "DLQ reason: $(cat "$WORK/dlq.txt")"
[ "$(rcli HGET 'cw:{acme-jp}:m' tr:parent_id)" = acme ] || fail "acme-jp's parent changed"
[ "$(rcli HGET 'cw:{acme-jp}:m' tr:seats)" = 10 ] || fail "acme-jp's seats changed"
pass "an account naming itself as parent is rejected as bad_traits, its traits kept"

for id in acme acme-jp acme-us acme-de solo; do
  cli -c "$WORK/cw.yaml" account "$id" --json >"$WORK/$id.json" || fail "churnwatch account $id"
done
cli -c "$WORK/cw.yaml" top --all --parent acme --json >"$WORK/top.json" || fail "top --parent acme"
cli -c "$WORK/cw.yaml" account acme >"$WORK/acme.txt" || fail "churnwatch account acme"
python3 - "$WORK" <<'PY' || fail "top --parent / account acme (see above)"
import json, sys
w = sys.argv[1]
acct = {i: json.load(open(f"{w}/{i}.json")) for i in ("acme", "acme-jp", "acme-us", "acme-de", "solo")}
kids = ["acme-de", "acme-jp", "acme-us"]
for k in kids:
    assert acct[k]["traits"]["parent_id"] == "acme", (k, acct[k]["traits"])
    assert acct[k]["score"] is not None, (k, "no score")
assert acct["acme"]["traits"]["parent_id"] is None
assert acct["solo"]["traits"]["parent_id"] == "elsewhere"
top = json.load(open(f"{w}/top.json"))
assert sorted(a["account_id"] for a in top["accounts"]) == kids, top
ch = acct["acme"]["children"]
assert [c["account_id"] for c in ch["accounts"]] == kids, ch
assert ch["count"] == 3 and ch["left_out"] == 0 and ch["rollup"] == "seat_weighted_mean", ch
for c in ch["accounts"]:
    a = acct[c["account_id"]]
    assert (c["score"], c["grade"], c["seats"]) == (a["score"], a["grade"], a["traits"]["seats"]), (c, a["score"])
for k in ("acme-jp", "acme-us", "solo"):  # no children
    assert acct[k]["children"]["accounts"] == [] and acct[k]["children"]["score"] is None, k
seats = {"acme-jp": 10, "acme-us": 30, "acme-de": 20}
want = sum(seats[k] * acct[k]["score"] for k in kids) / sum(seats.values())
# the children's scores are rounded to 2 decimals, as is the roll-up
assert abs(ch["score"] - want) <= 0.01, (ch["score"], want)
assert acct["acme-de"]["score"] < acct["acme-jp"]["score"], "acme-de did not decline"
text = open(f"{w}/acme.txt").read()
assert "children (3)  rolled up (seat_weighted_mean) %.1f" % ch["score"] in text, text
for k in kids:
    assert k in text.split("children (3)")[1], (k, text)
print(f"roll-up {ch['score']} of {[(k, acct[k]['score']) for k in kids]}")
PY
pass "top --parent acme lists exactly its three children; account acme shows them and their seat-weighted roll-up"

# "elsewhere" has no event of its own, only a child (solo): `account` shows it as a parent;
# an id that is neither an account nor a parent is still "no account".
cli -c "$WORK/cw.yaml" account elsewhere >"$WORK/elsewhere.txt" || fail "churnwatch account elsewhere"
cli -c "$WORK/cw.yaml" account elsewhere --json >"$WORK/elsewhere.json" ||
  fail "churnwatch account elsewhere --json"
python3 - "$WORK" <<'PY' || fail "account elsewhere (see above)"
import json, sys
w = sys.argv[1]
solo, acme = json.load(open(f"{w}/solo.json")), json.load(open(f"{w}/acme.json"))
doc = json.load(open(f"{w}/elsewhere.json"))
assert acme["own_state"] is True and solo["own_state"] is True, (acme["own_state"], solo["own_state"])
assert doc["account_id"] == "elsewhere" and doc["own_state"] is False and doc["score"] is None, doc
ch = doc["children"]
assert [c["account_id"] for c in ch["accounts"]] == ["solo"] and ch["count"] == 1, ch
assert ch["accounts"][0]["score"] == solo["score"] and ch["score"] == solo["score"], (ch, solo["score"])
text = open(f"{w}/elsewhere.txt").read()
assert "no events of its own" in text and "children (1)" in text and "solo" in text, text
PY
if cli -c "$WORK/cw.yaml" account nosuch >"$WORK/nosuch.txt" 2>&1; then
  fail "account nosuch succeeded: $(cat "$WORK/nosuch.txt")"
fi
grep "no account 'nosuch'" "$WORK/nosuch.txt" >/dev/null || fail "account nosuch: $(cat "$WORK/nosuch.txt")"
pass "account elsewhere (no events of its own) shows its child solo and the roll-up; an unknown id is no account"

# The declining child's alert carries its parent; the unrelated account's carries its own.
topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
python3 - "$WORK/alerts.jsonl" <<'PY' || fail "alerts: $(cat "$WORK/alerts.jsonl")"
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
de = [a for a in alerts if a["account_id"] == "acme-de" and a["status"] == "firing"]
assert de, "acme-de raised no alert"
assert all(a.get("parent_id") == "acme" for a in de), de
solo = [a for a in alerts if a["account_id"] == "solo"]
assert solo and all(a.get("parent_id") == "elsewhere" for a in solo), solo
assert all("parent_id" not in a for a in alerts if a["account_id"] == "acme"), "acme has no parent"
print("acme-de:", sorted({a["rule"] for a in de}))
PY
pass "the declining child's alerts carry parent_id acme"
daemon_stop
