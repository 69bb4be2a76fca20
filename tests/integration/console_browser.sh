#!/usr/bin/env bash
# console_browser.sh - `churnwatch console` in a real browser (Debian's chromium, headless)
# over the state the real daemon wrote from the demo's history (gen's default: seed 42, 40
# accounts, 90 days) plus accounts with hostile ids and traits:
#   1. the security headers (CSP, no-store, nosniff, frame-ancestors), the Host check,
#      read-only methods;
#   2. the accounts page lists what `churnwatch top --json` lists, in its order, with its
#      scores; every filter (grade, segment, owner, stage, renewal within, created within,
#      open rule, id search) agrees with top's, paging walks the same order, the counts per grade
#      agree with the score index;
#   3. an account's chart has one point per stored history day; its score is `account
#      --json`'s;
#   4. hostile ids and traits (<script>, quotes, U+202E) render inert: no injected element,
#      no raw bidi override in the DOM;
#   5. the rules page counts the firing episodes top shows;
#   5b. episodes that fired and resolved in the history (the alerts topic's firing and
#      resolved messages) show on their account's page as its recent episodes, the last 5
#      newest first, and on the rules page among the latest resolutions;
#   6. a screenshot (PNG) of each page, kept in the build directory (console-screenshots/)
#      for docs/images;
#   7. with an operator token (--token-file): silence and lift from the account page, only
#      with the token and the form's CSRF token; without a token, no form and no POST.
# Waits are on conditions (the console's "serving" line, the browser's exit).
source "$(dirname "$0")/harness.bash"
test_clock

browser_start

redis_start
mock_start 16 # the mock keeps ~5 MB a partition: room for the 90-day history
CFG="$WORK/cw.yaml"
write_config "$CFG"

"$CLI" gen --end "$TEST_NOW" -o "$WORK/events.jsonl" || fail "churnwatch gen"
# Hostile accounts: active for 28 days (so they are scored), traits built to break out of
# an element or an attribute, or to reorder what a page shows.
HOSTILE_SCRIPT='<script>alert(1)</script>'
HOSTILE_QUOTE='q"><img src=x onerror=alert(2)>'"'"'x'
HOSTILE_BIDI=$'acct-\u202eexe.txt'
python3 - "$TEST_NOW" "$HOSTILE_SCRIPT" "$HOSTILE_QUOTE" "$HOSTILE_BIDI" >>"$WORK/events.jsonl" <<'PY'
import datetime, json, sys
now = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
for n, acct in enumerate(sys.argv[2:]):
    print(json.dumps({"account_id": acct, "type": "account_updated",
                      "ts": iso(now - datetime.timedelta(days=29)),
                      "traits": {"seats": 10, "plan": "<b>plan</b>", "segment": "M",
                                 "owner": "\"><svg onload=alert(3)>\u202e",
                                 "renewal_at": iso(now + datetime.timedelta(days=200 + n))}}))
    for d in range(28, 0, -1):
        for u in range(3 + n):
            print(json.dumps({"account_id": acct, "user_id": f"<u{u}>", "type": "login",
                              "ts": iso(now - datetime.timedelta(days=d, hours=u))}))
PY
n=$(wc -l <"$WORK/events.jsonl")
cli -c "$CFG" produce "$WORK/events.jsonl" --key user 2>"$WORK/produce.log" ||
  fail "churnwatch produce: $(cat "$WORK/produce.log")"
daemon_start "$CFG"
wait_processed "$n" 300
rescore_and_wait "$CFG"
daemon_stop
accounts=$(rcli ZCARD cw:accounts)
[ "$accounts" -eq 43 ] || fail "expected 43 accounts in the store, found $accounts"
pass "state: $n events through the daemon, $accounts accounts"

console_start "$CFG"
grep -qxF "churnwatch console: serving $BASE/ (read-only; Ctrl-C stops it)" "$WORK/console.out" ||
  fail "serving line: $(cat "$WORK/console.out")"

# 1. headers, Host, methods
curl -sI "$BASE/" >"$WORK/head.txt" || fail "curl -I /"
python3 - "$WORK/head.txt" <<'PY' || fail "security headers"
import sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].split()[1] == "200", lines[0]
h = {}
for l in lines[1:]:
    if ":" in l:
        k, v = l.split(":", 1)
        h[k.strip().lower()] = v.strip()
csp = h.get("content-security-policy", "")
for want in ("default-src 'none'", "style-src 'self'", "frame-ancestors 'none'",
             "form-action 'self'", "base-uri 'none'"):
    assert want in csp, (want, csp)
assert "script-src" not in csp and "unsafe-inline" not in csp, csp
assert h.get("cache-control") == "no-store", h.get("cache-control")
assert h.get("x-content-type-options") == "nosniff", h
assert h.get("content-type") == "text/html; charset=utf-8", h
PY
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code -H 'Host: rebind.example:'"$PORT" "$BASE/")" = 421 ] || fail "a foreign Host is served"
[ "$(code -H "Host: localhost:$PORT" "$BASE/")" = 200 ] || fail "localhost:PORT is refused"
[ "$(code -X POST "$BASE/")" = 405 ] || fail "POST is not refused"
[ "$(code "$BASE/nope")" = 404 ] || fail "an unknown page is not 404"
[ "$(code "$BASE/?n=0")" = 400 ] || fail "a bad page size is not 400"
[ "$(code "$BASE/account?id=no-such-account")" = 404 ] || fail "an unknown account is not 404"
pass "headers: CSP without script, no-store, nosniff; foreign Host 421, POST 405"

# page FILE: the accounts page's rows as JSON [{id, score, grade, alerts}], next link, counts
page() { python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" accounts "$1"; }
urlq() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

# 2. the accounts page against top
cli -c "$CFG" top --all --json >"$WORK/top.json" || fail "top --json"
dom "$BASE/" "$WORK/accounts.html"
page "$WORK/accounts.html" >"$WORK/accounts.json"
python3 - "$WORK/accounts.json" "$WORK/top.json" <<'PY' || fail "the accounts page is not top's list"
import json, sys
page, top = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = top["accounts"]
got = page["rows"]
assert len(want) == 43, len(want)
assert [r["id"] for r in got] == [a["account_id"] for a in want], \
    ("order", [r["id"] for r in got], [a["account_id"] for a in want])
for r, a in zip(got, want):
    # the page shows one decimal, top two: the same score within the rounding
    assert (r["score"] == "n/a") if a["score"] is None else \
        abs(float(r["score"]) - a["score"]) <= 0.0501, (r, a)
    assert r["grade"] == (a["grade"] or "-"), (r, a)
    assert sorted(r["alerts"]) == sorted(a["alerts"]), (r, a)
assert page["next"] is None, page["next"]
assert int(page["scored"]) == top["scored"], (page["scored"], top["scored"])
PY
pass "accounts page: top's 43 accounts in its order, scores, grades and open alerts"

python3 - "$WORK/accounts.json" "$REDIS_PORT" <<'PY' || fail "counts per grade"
import json, subprocess, sys
page = json.load(open(sys.argv[1]))
bands = {"A": ("80", "+inf"), "B": ("60", "(80"), "C": ("40", "(60"), "D": ("0", "(40")}
for g, (lo, hi) in bands.items():
    n = subprocess.run(["redis-cli", "-p", sys.argv[2], "ZCOUNT", "cw:scores", lo, hi],
                       capture_output=True, text=True, check=True).stdout.strip()
    assert page["counts"][g] == n, (g, page["counts"], n)
PY
pass "accounts page: counts per grade are the score index's"

# each filter, compared with top's (run through the browser's URL, as a form submits it)
OWNER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accounts"][0]["account_id"])' "$WORK/top.json")
OWNER=$(cli -c "$CFG" account "$OWNER" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["traits"]["owner"])')
check_filter() { # check_filter QUERY TOP-ARGS...
  local q=$1; shift
  local name=${q//[^a-z0-9]/_}
  cli -c "$CFG" top --all --json "$@" >"$WORK/top-$name.json" || fail "top $*"
  dom "$BASE/?$q" "$WORK/f-$name.html"
  page "$WORK/f-$name.html" >"$WORK/f-$name.json"
  python3 - "$WORK/f-$name.json" "$WORK/top-$name.json" "$q" <<'PY' || fail "filter $q differs from top $*"
import json, sys
page, top = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
got = [r["id"] for r in page["rows"]]
want = [a["account_id"] for a in top["accounts"]]
assert got == want, (sys.argv[3], got, want)
print(f"  {sys.argv[3]}: {len(got)} accounts")
PY
}
check_filter "grade=D" --grade D
check_filter "grade=C" --grade C
check_filter "segment=M" --segment M
check_filter "owner=$(urlq "$OWNER")" --owner "$OWNER"
check_filter "stage=renewal" --stage renewal
check_filter "renewal_within=300d" --renewal-within 300d
check_filter "created_within=120d" --created-within 120d
check_filter "grade=C&segment=S" --grade C --segment S
# open rule and id search: top has no such flag; its JSON says the same
for rule in renewal_risk expansion health_low; do
  dom "$BASE/?rule=$rule" "$WORK/r-$rule.html"
  page "$WORK/r-$rule.html" >"$WORK/r-$rule.json"
  python3 - "$WORK/r-$rule.json" "$WORK/top.json" "$rule" <<'PY' || fail "rule=$rule"
import json, sys
page, top, rule = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
want = [a["account_id"] for a in top["accounts"] if rule in a["alerts"]]
assert [r["id"] for r in page["rows"]] == want, (rule, page["rows"], want)
assert want or rule == "health_low", f"no account with {rule} open: the data lost its point"
print(f"  rule={rule}: {len(want)} accounts")
PY
done
dom "$BASE/?q=-000" "$WORK/q.html"
page "$WORK/q.html" >"$WORK/q.json"
python3 - "$WORK/q.json" "$WORK/top.json" <<'PY' || fail "id search"
import json, sys
page, top = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = [a["account_id"] for a in top["accounts"] if "-000" in a["account_id"]]
assert want and [r["id"] for r in page["rows"]] == want, (page["rows"], want)
PY
pass "filters: grade, segment, owner, stage, renewal within, created within, both together, open rule and id search agree with top"

# paging: pages of 10 walk top's order; a filtered page's next link goes on after its last
ids=()
url="$BASE/?n=10"
pages=0
while [ -n "$url" ]; do
  dom "$url" "$WORK/p.html"
  page "$WORK/p.html" >"$WORK/p.json"
  mapfile -t got < <(python3 -c 'import json,sys; [print(r["id"]) for r in json.load(open(sys.argv[1]))["rows"]]' "$WORK/p.json")
  ids+=("${got[@]}")
  pages=$((pages + 1))
  next=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next"] or "")' "$WORK/p.json")
  url=${next:+$BASE$next}
  [ $pages -le 6 ] || fail "paging does not end"
done
[ $pages -eq 5 ] || fail "43 accounts in pages of 10 took $pages pages"
python3 - "$WORK/top.json" "${ids[@]}" <<'PY' || fail "paging order"
import json, sys
want = [a["account_id"] for a in json.load(open(sys.argv[1]))["accounts"]]
assert sys.argv[2:] == want, (sys.argv[2:], want)
PY
cli -c "$CFG" top --all --json --segment M >"$WORK/top-m.json"
m=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["accounts"]))' "$WORK/top-m.json")
[ "$m" -gt 4 ] || fail "segment M has $m accounts: too few to page"
dom "$BASE/?segment=M&n=4" "$WORK/pm1.html"
page "$WORK/pm1.html" >"$WORK/pm1.json"
next=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["next"] or "")' "$WORK/pm1.json")
[ -n "$next" ] || fail "a filtered page of 4 out of $m has no next link"
dom "$BASE$next" "$WORK/pm2.html"
page "$WORK/pm2.html" >"$WORK/pm2.json"
python3 - "$WORK/pm1.json" "$WORK/pm2.json" "$WORK/top-m.json" <<'PY' || fail "filtered paging"
import json, sys
p1, p2, top = (json.load(open(a)) for a in sys.argv[1:])
want = [a["account_id"] for a in top["accounts"]]
got = [r["id"] for r in p1["rows"]] + [r["id"] for r in p2["rows"]]
assert got == want[:len(got)] and len(p1["rows"]) == 4, (got, want)
PY
pass "paging: 5 pages of 10 in top's order; a filtered page's next link goes on where it stopped"

# 3. an account's chart: one point per stored history day; the score is account --json's
ACCT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accounts"][0]["account_id"])' "$WORK/top.json")
dom "$BASE/account?id=$(urlq "$ACCT")" "$WORK/account.html"
python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" account "$WORK/account.html" >"$WORK/account.json"
cli -c "$CFG" account "$ACCT" --json >"$WORK/account-cli.json"
days=$(rcli HLEN "cw:{$ACCT}:h")
python3 - "$WORK/account.json" "$WORK/account-cli.json" "$days" "$ACCT" <<'PY' || fail "account page of $ACCT"
import json, sys
page, cli, days, acct = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
assert page["id"] == acct, page["id"]
assert days >= 20, f"only {days} history days stored"
assert page["points"] == days, (page["points"], days)
assert len(set(page["point_days"])) == days, "two points on one day"
assert page["point_days"] == sorted(page["point_days"]), "points out of order"
assert abs(float(page["score"]) - cli["score"]) <= 0.0501, (page["score"], cli["score"])
assert page["grade"] == cli["grade"], (page["grade"], cli["grade"])
assert page["thresholds"] >= 2, page["thresholds"]
assert page["measures"] == len(cli["measures"]), (page["measures"], len(cli["measures"]))
assert sorted(page["alert_rules"]) == sorted(a["rule"] for a in cli["alerts"]) or \
    set(a["rule"] for a in cli["alerts"]) <= set(page["alert_rules"]), page["alert_rules"]
print(f"  {acct}: {days} points, score {page['score']} {page['grade']}")
PY
pass "account page: one chart point per history day ($days), the score and grade of account --json"

# 4. hostile ids and traits render inert, on the accounts page and on their own pages
for id in "$HOSTILE_SCRIPT" "$HOSTILE_QUOTE" "$HOSTILE_BIDI"; do
  dom "$BASE/account?id=$(urlq "$id")" "$WORK/hostile.html"
  python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" inert "$WORK/hostile.html" "$id" ||
    fail "the account page of a hostile id is not inert"
done
python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" inert "$WORK/accounts.html" "$HOSTILE_SCRIPT" ||
  fail "the accounts page is not inert"
pass "hostile ids and traits: no injected element, no raw U+202E, shown as their escaped text"

# 5. the rules page: firing counts are those top shows
dom "$BASE/rules" "$WORK/rules.html"
python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" rules "$WORK/rules.html" >"$WORK/rules.json"
python3 - "$WORK/rules.json" "$WORK/top.json" <<'PY' || fail "rules page"
import json, sys
rules, top = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert rules["scanned"] == top["scored"], (rules["scanned"], top["scored"])
for name, firing in rules["firing"].items():
    want = sum(1 for a in top["accounts"] if name in a["alerts"])
    assert firing == want, (name, firing, want)
assert {"renewal_risk", "expansion", "health_low"} <= set(rules["firing"]), rules
PY
pass "rules page: firing per rule as top shows them"

# 5b. recent resolved episodes against the alerts the daemon published: each resolution is
# an episode (rule, severity, started = its firing's observed_at, resolved = its own); an
# account keeps its 5 newest. The account with the most resolutions is checked in full
# (EP_ACCT: the account page's screenshot is of it).
topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
python3 - "$WORK/alerts.jsonl" "$WORK/episodes.json" <<'PY' || fail "the alerts topic holds no resolved episode"
import json, sys
from collections import defaultdict
fired, kept = {}, defaultdict(list)
alerts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for a in alerts:
    if a["status"] == "firing" and not a.get("reminder"):
        fired[a["alert_id"]] = a["observed_at"]
for a in alerts:
    if a["status"] == "resolved":
        kept[a["account_id"]].append({"alert_id": a["alert_id"], "rule": a["rule"],
                                      "severity": a["severity"], "started": fired[a["alert_id"]],
                                      "resolved": a["observed_at"]})
assert kept, "no episode resolved in the history: the test lost its point"
for acct in kept: # newest first, equal resolutions by alert id (lib/episode.c): the 5 newest
    by_id = sorted(kept[acct], key=lambda e: e["alert_id"])
    kept[acct] = sorted(by_id, key=lambda e: e["resolved"], reverse=True)[:5] # stable
# the most resolutions, a plain id first (the account page's screenshot shows it)
plain = lambda k: all(c.isascii() and (c.isalnum() or c == "-") for c in k)
most = sorted(kept, key=lambda k: (not plain(k), -len(kept[k]), k))[0]
json.dump({"account": most, "kept": kept}, open(sys.argv[2], "w"))
print(f"  {sum(len(v) for v in kept.values())} episodes kept over {len(kept)} accounts; "
      f"{most}: {len(kept[most])}")
PY
EP_ACCT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["account"])' "$WORK/episodes.json")
dom "$BASE/account?id=$(urlq "$EP_ACCT")" "$WORK/ep-account.html"
python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" account "$WORK/ep-account.html" >"$WORK/ep-account.json"
python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" rules "$WORK/rules.html" >"$WORK/rules.json"
python3 - "$WORK/episodes.json" "$WORK/ep-account.json" "$WORK/rules.json" <<'PY' || fail "recent episodes"
import datetime, json, sys
want, page, rules = (json.load(open(a)) for a in sys.argv[1:])
ms = lambda t: int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
def same(shown, e):
    return (shown["alert_id"] == e["alert_id"] and shown["rule"] == e["rule"] and
            shown["severity"] == e["severity"] and ms(shown["started"]) == ms(e["started"]) and
            ms(shown["resolved"]) == ms(e["resolved"]))
acct = want["account"]
kept = want["kept"][acct]
got = page["episodes"]
assert len(got) == len(kept), (acct, got, kept)
for g, e in zip(got, kept):
    assert same(g, e), (acct, g, e)
    assert g["lasted"], g
# the rules page: the 20 newest of every account's kept episodes, newest first
every = sorted((dict(e, account=a) for a, eps in want["kept"].items() for e in eps),
               key=lambda e: e["resolved"], reverse=True)
shown = rules["resolved"]
assert len(shown) == min(20, len(every)), (len(shown), len(every))
assert [ms(s["resolved"]) for s in shown] == [ms(e["resolved"]) for e in every[:len(shown)]], shown
for s in shown:
    assert any(same(s, e) for e in want["kept"][s["account"]]), s
print(f"  {acct}: {len(got)} recent episodes; rules page: {len(shown)} latest resolutions")
PY
pass "recent episodes: the account page lists its resolved episodes as the alerts topic tells them, newest first; the rules page the latest resolutions"

# 5c. `churnwatch account` lists the same recent episodes (text and --json).
cli -c "$CFG" account "$EP_ACCT" --json >"$WORK/ep-cli.json" || fail "account $EP_ACCT --json"
cli -c "$CFG" account "$EP_ACCT" >"$WORK/ep-cli.txt" || fail "account $EP_ACCT"
python3 - "$WORK/episodes.json" "$WORK/ep-cli.json" "$WORK/ep-cli.txt" <<'PY' || fail "account's recent episodes"
import datetime, json, sys
want, doc = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
text = open(sys.argv[3]).read()
ms = lambda t: int(datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
kept = want["kept"][want["account"]]
got = doc["episodes"]
assert len(got) == len(kept), (got, kept)
for g, e in zip(got, kept):
    assert (g["alert_id"], g["rule"], g["severity"]) == (e["alert_id"], e["rule"], e["severity"]), (g, e)
    assert ms(g["started"]) == ms(e["started"]) and ms(g["resolved"]) == ms(e["resolved"]), (g, e)
section = text.split("recent episodes (resolved)\n")[1]
for e in kept:
    assert e["alert_id"] in section, (e["alert_id"], text)
PY
pass "account lists the same recent episodes, in text and --json"

# 6. screenshots
shot "$BASE/" "$WORK/console-accounts.png" 1200 820
shot "$BASE/account?id=$(urlq "$EP_ACCT")" "$WORK/console-account.png" 1200 1150
shot "$BASE/rules" "$WORK/console-rules.png" 1200 900
mkdir -p "$CW_BUILD_DIR/console-screenshots"
cp "$WORK"/console-*.png "$CW_BUILD_DIR/console-screenshots/"
pass "screenshots: $(cd "$WORK" && echo console-*.png) (also in $CW_BUILD_DIR/console-screenshots)"

[ "$(code -X POST --data 'id=x' "$BASE/silence")" = 405 ] ||
  fail "the console without a token takes a silence form"
grep -q 'name="token"' "$WORK/account.html" && fail "a read-only console shows an action form"
kill -TERM "$CONSOLE_PID"
wait "$CONSOLE_PID" || fail "the console did not exit 0 on SIGTERM"
pass "console: without a token no form and no POST; exits 0 on SIGTERM"

# 7. actions with an operator token: CSRF token and operator token both required; the
# silence is the one `churnwatch silences` lists; the token never appears in a page
TOKEN=console-operator-token-$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$WORK/token"
chmod 644 "$WORK/token"
rc=0
CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "$CLI" -c "$CFG" console \
  --listen "127.0.0.1:$PORT" --token-file "$WORK/token" >/dev/null 2>"$WORK/token.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'readable by others' "$WORK/token.err" ||
  fail "a token file readable by others is taken (rc $rc: $(cat "$WORK/token.err"))"
chmod 600 "$WORK/token"
console_start "$CFG" --token-file "$WORK/token"
grep -qF '(silences with the operator token;' "$WORK/console.out" || fail "$(cat "$WORK/console.out")"
ENC=$(urlq "$HOSTILE_QUOTE")
dom "$BASE/account?id=$ENC" "$WORK/act.html"
grep -q 'id="silence-form"' "$WORK/act.html" || fail "no silence form with a token"
grep -qF "$TOKEN" "$WORK/act.html" && fail "the operator token is in the page"
python3 "$CW_SOURCE_DIR/tests/integration/lib/console_dom.py" inert "$WORK/act.html" "$HOSTILE_QUOTE" ||
  fail "the account page with forms is not inert"
CSRF=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$WORK/act.html" | sed -n 1p)
[ ${#CSRF} -eq 64 ] || fail "no CSRF token in the form"
dom "$BASE/account?id=$(urlq "$ACCT")" "$WORK/act2.html"
OTHER=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$WORK/act2.html" | sed -n 1p)
[ "$OTHER" != "$CSRF" ] || fail "two accounts share a CSRF token"
post() { # post PATH CSRF TOKEN: the form as a browser sends it; prints the status
  curl -s -o "$WORK/post.out" -D "$WORK/post.head" -w '%{http_code}' \
    --data-urlencode "id=$HOSTILE_QUOTE" --data-urlencode "rule=health_low" \
    --data-urlencode "for=3d" --data-urlencode "reason=<i>CSM</i> on it" \
    --data-urlencode "csrf=$2" --data-urlencode "token=$3" "$BASE$1"
}
[ "$(post /silence "$CSRF" wrong-token-wrong-token)" = 403 ] || fail "a wrong operator token is taken"
[ "$(post /silence "$OTHER" "$TOKEN")" = 403 ] || fail "another account's CSRF token is taken"
[ "$(post /silence "" "$TOKEN")" = 403 ] || fail "a missing CSRF token is taken"
cli -c "$CFG" silences --json >"$WORK/sil0.json"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == [], "a refused form silenced"' "$WORK/sil0.json" ||
  fail "a refused form left a silence"
[ "$(post /silence "$CSRF" "$TOKEN")" = 303 ] || fail "the silence form was refused: $(cat "$WORK/post.out")"
grep -qi "^location: /account?id=$ENC" "$WORK/post.head" || fail "no redirect to the account: $(cat "$WORK/post.head")"
cli -c "$CFG" silences --json >"$WORK/sil1.json"
python3 - "$WORK/sil1.json" "$HOSTILE_QUOTE" <<'PY' || fail "the console's silence"
import json, sys
s = json.load(open(sys.argv[1]))
assert len(s) == 1 and s[0]["account_id"] == sys.argv[2] and s[0]["rule"] == "health_low", s
assert s[0]["reason"] == "<i>CSM</i> on it", s
PY
dom "$BASE/account?id=$ENC" "$WORK/act3.html"
grep -qF '&lt;i&gt;CSM&lt;/i&gt; on it' "$WORK/act3.html" || fail "the silence's reason is not shown escaped"
grep -q 'action="/unsilence"' "$WORK/act3.html" || fail "no form to lift the silence"
[ "$(post /unsilence "$CSRF" "$TOKEN")" = 303 ] || fail "the unsilence form was refused: $(cat "$WORK/post.out")"
cli -c "$CFG" silences --json >"$WORK/sil2.json"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == []' "$WORK/sil2.json" ||
  fail "the silence was not lifted"
[ "$(code -X POST "$BASE/")" = 405 ] || fail "a POST to a page is taken"
kill -TERM "$CONSOLE_PID"
wait "$CONSOLE_PID" || fail "the console with a token did not exit 0 on SIGTERM"
pass "actions: silence and lift with the operator token and the form's CSRF token; wrong or missing either refused; the token never in a page"
