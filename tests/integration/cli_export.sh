#!/usr/bin/env bash
# cli_export.sh - `churnwatch export` against the state the real daemon wrote: JSON Lines
# (every account once, scores as `churnwatch account --json` gives them, the stored score
# history), CSV per account and per history point (the same figures, RFC 4180 quoting of
# hostile ids, --spreadsheet making formulas inert), the filters (and `top --owner`,
# `top --renewal-within`, the renewal in `account`), -o (complete or absent), clear errors.
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary

redis_start
mock_start 4
CFG="$WORK/cw.yaml"
# with the shipped renewal_risk looking 300 days ahead (gen keeps the renewals of these
# fates more than 100 days after the end, beyond its 90) and an opportunity rule not in
# the shipped config: judged in the export below
write_config "$CFG" 's/^      within: 90d$/      within: 300d/' \
  '/^      exit: 0.4$/a\    - {name: champion, kind: score_above, enter: 70, exit: 60}'
grep -B3 -x '      within: 300d' "$CFG" | grep -x '      kind: renewal' >/dev/null &&
  grep -F 'kind: score_above' "$CFG" >/dev/null ||
  fail "could not set renewal_risk's within and add the score_above rule"

"$CLI" gen --seed 31 --fates healthy=4,underused=3,declining=3,silent=2 --days 40 \
  --end "$TEST_NOW" -o "$WORK/events.jsonl" || fail "churnwatch gen"
# Two accounts whose ids a CSV reader or a spreadsheet could misread.
for id in '=HYPERLINK("http://x","y")' 'comma,"quoted" id'; do
  python3 -c 'import json,sys; print(json.dumps({"account_id": sys.argv[1], "type": "login",
    "user_id": "u1", "ts": sys.argv[2]}))' "$id" "$TEST_NOW" >>"$WORK/events.jsonl"
done
n=$(wc -l <"$WORK/events.jsonl")
# The whole history before the daemon starts (see daemon_fates.sh: a starved producer
# would let the clock go live halfway).
cli -c "$CFG" produce "$WORK/events.jsonl" --key user 2>"$WORK/produce.log" ||
  fail "churnwatch produce: $(cat "$WORK/produce.log")"
daemon_start "$CFG"
wait_processed "$n" 300
rescore_and_wait "$CFG"
daemon_stop
accounts=$(rcli ZCARD cw:accounts)
[ "$accounts" -eq 14 ] || fail "expected 14 accounts in the store, found $accounts"

# JSON Lines: every account once, the figures of `churnwatch account --json`.
cli -c "$CFG" export >"$WORK/all.jsonl" 2>"$WORK/all.err" || fail "export: $(cat "$WORK/all.err")"
grep -x "churnwatch: exported $accounts accounts ($accounts lines)" "$WORK/all.err" >/dev/null ||
  fail "export summary: $(cat "$WORK/all.err")"
rcli ZRANGE cw:accounts 0 -1 >"$WORK/ids.txt"
for id in $(python3 -c 'import json,sys
for l in open(sys.argv[1]): print(json.loads(l)["account_id"])' "$WORK/all.jsonl" | grep -v '[=,]'); do
  cli -c "$CFG" account "$id" --json >"$WORK/acct.json" || fail "account $id --json"
  python3 - "$WORK/all.jsonl" "$WORK/acct.json" "$id" <<'PY' || fail "export and account disagree on $id"
import json, sys
rows = {json.loads(l)["account_id"]: json.loads(l) for l in open(sys.argv[1])}
a, e = json.load(open(sys.argv[2])), rows[sys.argv[3]]
for k in ("score", "grade", "components"):
    assert e[k] == a[k], (k, e[k], a[k])
for k in ("segment", "plan", "owner", "seats"):
    assert e[k] == a["traits"][k], (k, e[k], a["traits"][k])
assert sorted(e["firing"]) == sorted(x["rule"] for x in a["alerts"]), (e["firing"], a["alerts"])
PY
done
python3 - "$WORK/all.jsonl" "$WORK/ids.txt" "$REDIS_PORT" <<'PY' || fail "JSON Lines"
import json, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = [l.rstrip("\n") for l in open(sys.argv[2])]
got = [r["account_id"] for r in rows]
assert sorted(got) == sorted(ids), ("accounts", sorted(set(ids) ^ set(got)))
assert len(set(got)) == len(got), "an account twice"
for r in rows:
    h = subprocess.run(["redis-cli", "-p", sys.argv[3], "HLEN", "cw:{%s}:h" % r["account_id"]],
                       capture_output=True, text=True, check=True).stdout.strip()
    assert len(r["history"]) == int(h), (r["account_id"], len(r["history"]), h)
    days = [p["day"] for p in r["history"]]
    assert days == sorted(days), ("history order", r["account_id"])
    assert r["as_of"].startswith("2026-11-23T15:"), r["as_of"]
assert any(r["firing"] for r in rows), "no account with a firing rule: the data lost its point"
# renewal_risk: renewal within 300 days and a score below 50 (below 60 once firing)
import datetime
def left(r):
    at = datetime.datetime.fromisoformat(r["renewal_at"].replace("Z", "+00:00"))
    return at - datetime.datetime.fromisoformat(r["as_of"].replace("Z", "+00:00"))
fired = 0
for r in rows:
    inside = r["renewal_at"] is not None and datetime.timedelta(0) <= left(r) <= datetime.timedelta(days=300)
    if "renewal_risk" in r["firing"]:
        fired += 1
        assert inside and r["score"] < 60, ("renewal_risk firing", r["account_id"], r["renewal_at"], r["score"])
    else:
        assert not (inside and r["score"] is not None and r["score"] < 50), ("renewal_risk not firing", r)
assert fired > 0, "no account with renewal_risk firing: the data lost its point"
# champion (score_above, an opportunity): above 70 fires, at most 60 resolves
champions = [r for r in rows if "champion" in r["firing"]]
assert champions, "no champion: the data lost its point"
for r in rows:
    if "champion" in r["firing"]:
        assert r["score"] > 60, ("champion firing", r["account_id"], r["score"])
    else:
        assert r["score"] is None or r["score"] <= 70, ("champion not firing", r["account_id"], r["score"])
assert sum(len(r["history"]) for r in rows) > 0, "no score history"
PY
renewal_alerts=$(topic_dump churnwatch-alerts | python3 -c 'import json,sys
alerts = [json.loads(l) for l in sys.stdin]
want = {"renewal": "risk", "score_above": "opportunity", "ratio_above": "opportunity"}
for a in alerts:
    assert a["direction"] == want.get(a["kind"], "risk"), (a["kind"], a["direction"])
assert any(a["kind"] == "score_above" for a in alerts), "no score_above alert"
print(sum(1 for a in alerts if a["kind"] == "renewal" and a.get("renewal_at")))') ||
  fail "alert directions"
[ "$renewal_alerts" -gt 0 ] || fail "no renewal alert (with renewal_at) on the alerts topic"
pass "JSON Lines: $accounts accounts, each as churnwatch account --json scores it, with its stored history; $renewal_alerts renewal alerts"

# CSV: the same figures; hostile ids read back exactly; the history in long form.
cli -c "$CFG" export --format csv >"$WORK/all.csv" 2>/dev/null || fail "export --format csv"
cli -c "$CFG" export --format csv --history >"$WORK/hist.csv" 2>/dev/null ||
  fail "export --format csv --history"
cli -c "$CFG" export --format csv --spreadsheet >"$WORK/sheet.csv" 2>/dev/null ||
  fail "export --format csv --spreadsheet"
python3 - "$WORK/all.jsonl" "$WORK/all.csv" "$WORK/hist.csv" "$WORK/sheet.csv" <<'PY' || fail "CSV"
import csv, json, sys
rows = {json.loads(l)["account_id"]: json.loads(l) for l in open(sys.argv[1])}
table = list(csv.DictReader(open(sys.argv[2], newline="")))
assert len(table) == len(rows), (len(table), len(rows))
comps = next(iter(rows.values()))["components"].keys()
for t in table:
    e = rows[t["account_id"]]  # a hostile id that did not read back exactly fails here
    num = lambda v: None if v == "" else float(v)
    assert num(t["score"]) == e["score"], (t["account_id"], t["score"], e["score"])
    assert (t["grade"] or None) == e["grade"]
    for c in comps:
        assert num(t["component_" + c]) == e["components"][c], (c, t, e)
    assert (t["segment"] or None) == e["segment"] and (t["owner"] or None) == e["owner"]
    assert (t["last_seen"] or None) == e["last_seen"], (t["last_seen"], e["last_seen"])
    assert sorted(filter(None, t["firing"].split(";"))) == sorted(e["firing"])
assert '=HYPERLINK("http://x","y")' in rows and 'comma,"quoted" id' in rows
hist = list(csv.DictReader(open(sys.argv[3], newline="")))
want = sorted((i, p["day"], p["score"]) for i, r in rows.items() for p in r["history"])
assert sorted((h["account_id"], h["day"], float(h["score"])) for h in hist) == want, "history rows"
sheet = {t["account_id"] for t in csv.DictReader(open(sys.argv[4], newline=""))}
assert "'=HYPERLINK(\"http://x\",\"y\")" in sheet, sorted(sheet)
assert 'comma,"quoted" id' in sheet
PY
pass "CSV: per account and per history point, the JSON Lines' figures; --spreadsheet quotes the formula"

# Filters, -o, errors.
seg=$(python3 -c 'import json,sys
print(sorted({json.loads(l)["segment"] for l in open(sys.argv[1]) if json.loads(l)["segment"]})[0])' "$WORK/all.jsonl")
want=$(python3 -c 'import json,sys
print(sum(json.loads(l)["segment"] == sys.argv[2] for l in open(sys.argv[1])))' "$WORK/all.jsonl" "$seg")
cli -c "$CFG" export --segment "$seg" -o "$WORK/seg.jsonl" 2>"$WORK/seg.err" || fail "export --segment -o"
[ "$(wc -l <"$WORK/seg.jsonl")" -eq "$want" ] || fail "--segment $seg: $(wc -l <"$WORK/seg.jsonl") lines, want $want"
grep -x "churnwatch: exported $want accounts ($want lines), $((accounts - want)) not matching" \
  "$WORK/seg.err" >/dev/null || fail "--segment summary: $(cat "$WORK/seg.err")"
[ ! -e "$WORK/seg.jsonl.part" ] || fail "-o left its .part file"
grade=$(python3 -c 'import json,sys
print(next(json.loads(l)["grade"] for l in open(sys.argv[1]) if json.loads(l)["grade"]))' "$WORK/all.jsonl")
cli -c "$CFG" export --grade "$grade" --format csv >"$WORK/grade.csv" 2>/dev/null || fail "--grade"
python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert rows and all(r["grade"] == sys.argv[2] for r in rows), rows' "$WORK/grade.csv" "$grade" ||
  fail "--grade $grade kept another grade"
if cli -c "$CFG" export --grade nosuch >/dev/null 2>"$WORK/bad.err"; then fail "--grade nosuch accepted"; fi
grep -F "churnwatch: unknown grade 'nosuch'; grades:" "$WORK/bad.err" >/dev/null ||
  fail "--grade nosuch: $(cat "$WORK/bad.err")"
if cli -c "$CFG" export --history >/dev/null 2>&1; then fail "--history without --format csv accepted"; fi
if cli -c "$CFG" export -o "$WORK/no/such/dir/x.jsonl" 2>"$WORK/dir.err"; then fail "-o into a missing directory"; fi
grep -F "cannot write" "$WORK/dir.err" >/dev/null || fail "-o into a missing directory: $(cat "$WORK/dir.err")"
# top --owner: the owner's scored accounts, as the export lists them.
owner=$(python3 -c 'import json,sys
print(sorted({json.loads(l)["owner"] for l in open(sys.argv[1]) if json.loads(l)["owner"]})[0])' "$WORK/all.jsonl")
cli -c "$CFG" top --all --owner "$owner" --json >"$WORK/owner.json" 2>/dev/null || fail "top --owner"
python3 - "$WORK/all.jsonl" "$WORK/owner.json" "$owner" <<'PY' || fail "top --owner $owner"
import json, sys
want = sorted(r["account_id"] for r in map(json.loads, open(sys.argv[1]))
              if r["owner"] == sys.argv[3] and r["score"] is not None)
got = sorted(a["account_id"] for a in json.load(open(sys.argv[2]))["accounts"])
assert want and got == want, (got, want)
PY
# top --renewal-within: the renewal call list; account shows the days left.
days=$(python3 -c 'import json,sys,datetime
now = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
left = sorted((datetime.datetime.fromisoformat(r["renewal_at"].replace("Z", "+00:00")) - now).days
              for r in map(json.loads, open(sys.argv[1])) if r["renewal_at"])
print(left[len(left) // 2] + 1)' "$WORK/all.jsonl" "$TEST_NOW")
cli -c "$CFG" top --all --renewal-within "${days}d" --json >"$WORK/renew.json" 2>/dev/null ||
  fail "top --renewal-within ${days}d"
python3 - "$WORK/all.jsonl" "$WORK/renew.json" "$days" <<'PY' || fail "top --renewal-within ${days}d"
import datetime, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
now = datetime.datetime.fromisoformat(rows[0]["as_of"].replace("Z", "+00:00"))
end = now + datetime.timedelta(days=int(sys.argv[3]))
at = lambda r: datetime.datetime.fromisoformat(r["renewal_at"].replace("Z", "+00:00"))
want = sorted(r["account_id"] for r in rows
              if r["renewal_at"] and r["score"] is not None and now <= at(r) <= end)
got = json.load(open(sys.argv[2]))["accounts"]
assert want and len(want) < sum(r["score"] is not None for r in rows), ("no split", want)
assert sorted(a["account_id"] for a in got) == want, (sorted(a["account_id"] for a in got), want)
assert all(a["renewal_at"] for a in got)
PY
# top --stage / --profile: the accounts whose stage (profile) `top --all --json` names.
cli -c "$CFG" top --all --json >"$WORK/top-all.json" 2>/dev/null || fail "top --all --json"
for filter in "--stage onboarding" "--stage adopted" "--stage renewal" "--profile onboarding" \
  "--profile default"; do
  # shellcheck disable=SC2086 # two words: the option and its value
  cli -c "$CFG" top --all --json $filter >"$WORK/top-filter.json" 2>/dev/null || fail "top $filter"
  python3 - "$WORK/top-all.json" "$WORK/top-filter.json" $filter <<'PY' || fail "top $filter"
import json, sys
every = json.load(open(sys.argv[1]))["accounts"]
got = sorted(a["account_id"] for a in json.load(open(sys.argv[2]))["accounts"])
key, value = sys.argv[3].lstrip("-"), sys.argv[4]
want = sorted(a["account_id"] for a in every if a[key] == value)
assert got == want, (got, want)
PY
done
python3 -c 'import json,sys
accounts = json.load(open(sys.argv[1]))["accounts"]
stages = {a["stage"] for a in accounts}
assert stages - {None}, stages
assert all(a["profile"] == ("onboarding" if a["stage"] == "onboarding" else "default")
           for a in accounts), accounts' "$WORK/top-all.json" || fail "top --json: stages and profiles"
rc=0
cli -c "$CFG" top --stage onbording 2>"$WORK/stage.err" >/dev/null || rc=$?
[ "$rc" -eq 1 ] && grep -F "unknown stage 'onbording'; stages: onboarding renewal adopted" \
  "$WORK/stage.err" >/dev/null || fail "top --stage onbording: exit $rc, $(cat "$WORK/stage.err")"
id=$(head -n1 "$WORK/ids.txt")
cli -c "$CFG" account "$id" >"$WORK/acct.txt" || fail "account $id"
grep -E '^  renews [0-9T:.-]+Z \(in [0-9]+ days?\)$' "$WORK/acct.txt" >/dev/null ||
  fail "account $id does not show its renewal: $(cat "$WORK/acct.txt")"
cli -c "$CFG" account "$id" --json | python3 -c 'import json,sys
t = json.load(sys.stdin)["traits"]
assert t["renewal_at"] and isinstance(t["days_to_renewal"], int) and t["days_to_renewal"] >= 0, t' ||
  fail "account $id --json: no renewal"
redis_stop
rc=0
cli -c "$CFG" export -o "$WORK/down.jsonl" 2>"$WORK/down.err" || rc=$?
[ "$rc" -eq 2 ] || fail "export with Redis down exited $rc, want 2: $(cat "$WORK/down.err")"
[ ! -e "$WORK/down.jsonl" ] && [ ! -e "$WORK/down.jsonl.part" ] || fail "a failed export left a file"
pass "filters (--segment $seg: $want, --grade $grade, top --owner, top --renewal-within ${days}d, top --stage, top --profile), -o complete or absent, errors"
