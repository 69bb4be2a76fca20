#!/usr/bin/env bash
# cli_demo.sh - README command 1's demo (`churnwatch demo`, what deploy/demo.sh runs after
# the build) with its default options and the shipped config, at the test's fixed "now":
#   1. it exits 0, having streamed gen's default history (40 accounts, 90 days) through
#      the real daemon, printed alerts as they fired and the table of all 40 accounts;
#   2. among the alerts: a renewal risk (renewal_risk, with its days left) and an
#      opportunity (expansion, marked as one), each only for the accounts whose fate tells
#      that story (gen's manifest of the same seed) and for every one of them, and still
#      open in the table;
#   3. it shows a group of accounts (a parent, its children, their roll-up) and the
#      parent's users by engagement rank, and ends with the URL of the web console
#      (`churnwatch console`) over that state;
#   4. it stops what it started: its console and redis-server no longer answer.
# The demo bounds its own waits (start 20 s, catching up 120 s, then 2.5 s without a new
# alert); `timeout` bounds the whole run.
source "$(dirname "$0")/harness.bash"
test_clock # the demo's history ends "now": the fixed instant makes it the same every run

export TMPDIR="$WORK" # the demo's scratch directory (redis data, daemon log) is ours
# churnwatchd --embedded-kafka publishes its address in XDG_RUNTIME_DIR: a private one.
export XDG_RUNTIME_DIR="$WORK/run"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset CHURNWATCH_KAFKA_BROKERS CHURNWATCH_REDIS_URL CHURNWATCH_HTTP_LISTEN

t0=$SECONDS
rc=0
timeout 300 "$CLI" -c "$CW_SOURCE_DIR/conf/churnwatch.yaml" demo >"$WORK/demo.raw" \
  2>"$WORK/demo.log" || rc=$?
sed 's/\x1b\[[0-9;]*m//g' "$WORK/demo.raw" >"$WORK/demo.txt" # without the colours
[ "$rc" -eq 0 ] || { cat "$WORK/demo.txt" >&2; fail "churnwatch demo exited with status $rc"; }
grep -E '^[0-9]+ events streamed; [0-9]+ alerts fired \([0-9]+ of them opportunities\), [0-9]+ resolved\.$' \
  "$WORK/demo.txt" >/dev/null || { cat "$WORK/demo.txt" >&2; fail "no summary line"; }
rows=$(sed -n '/^ACCOUNT  *SCORE GRADE SEGMENT/,/^$/p' "$WORK/demo.txt" | grep -cE '^[a-z]+-[0-9]{4} ' || true)
[ "$rows" -eq 40 ] || { cat "$WORK/demo.txt" >&2; fail "the table lists $rows accounts, not 40"; }
pass "demo: exit 0 in $((SECONDS - t0))s, $(grep -c '  FIRING  ' "$WORK/demo.txt" || true) firings, table of 40 accounts"

# The demo's history is gen's default (seed 42, 40 accounts, 90 days) ending at its start;
# fates do not depend on the end, so this manifest names the same accounts' fates.
"$CLI" gen --end "$TEST_NOW" --manifest "$WORK/manifest.jsonl" -o /dev/null ||
  fail "churnwatch gen --manifest"
python3 - "$WORK/demo.txt" "$WORK/manifest.jsonl" <<'PY' || fail "the demo's alerts disagree with the fates (see above)"
import json, re, sys
text = open(sys.argv[1]).read()
fate = {}
for line in open(sys.argv[2]):
    m = json.loads(line)
    fate[m["account_id"]] = m["fate"]
firing = re.findall(r"^  (\d{4}-\d\d-\d\d)  FIRING +(\S+) +(\S+) +(.*)$", text, re.M)
table = {m.group(1): m.group(2).split(",")
         for m in re.finditer(r"^([a-z]+-\d{4}) +[\d.]+ +\S+ +\S+ +\S+ +(\S+)$", text, re.M)}
problems = []
for rule, story, shape in (
        ("renewal_risk", "renewing",
         r"renewal in \d+ days \(within 90d\) with health score [\d.]+ below 50"),
        ("expansion", "expanding",
         r"opportunity: \d+ of \d+ seats active over long \(28d\) = [\d.]+ > 0\.97")):
    fired = {acct for _, r, acct, _ in firing if r == rule}
    want = {acct for acct, f in fate.items() if f == story}
    if not want:
        problems.append(f"the default mix has no {story} account")
    if fired != want:
        problems.append(f"{rule} fired for {sorted(fired)}; the {story} accounts are "
                        f"{sorted(want)}")
    for _, r, acct, reason in firing:
        if r == rule and not re.fullmatch(shape, reason):
            problems.append(f"{rule} for {acct}: reason {reason!r}")
    for acct in want:
        if rule not in table.get(acct, []):
            problems.append(f"{acct}: {rule} not open in the table: {table.get(acct)}")
    print(f"{rule}: {len(fired)} firings, for the {story} accounts {sorted(want)}")
opp = re.search(r"\((\d+) of them opportunities\)", text)
if not opp or int(opp.group(1)) != sum(1 for _, r, _, _ in firing if r == "expansion"):
    problems.append(f"the summary counts {opp and opp.group(1)} opportunities")
for p in problems:
    print(f"FAIL: {p}")
sys.exit(1 if problems else 0)
PY
pass "demo: a renewal risk for every renewing account and an opportunity for every expanding one, no other"

# The demo shows a group (gen's first parent: docs/hierarchies.md) with its four children and
# their roll-up, and the parent's users by engagement rank (the demo adds a users section to
# a config without one, docs/users.md).
python3 - "$WORK/demo.txt" "$WORK/manifest.jsonl" <<'PY' || fail "the demo's group and users (see above)"
import json, re, sys
text = open(sys.argv[1]).read()
m = [json.loads(l) for l in open(sys.argv[2])]
parents = [a["parent_id"] for a in m if a["parent_id"]]
first = next(a["account_id"] for a in m if a["account_id"] in parents)
kids = sorted(a["account_id"] for a in m if a["parent_id"] == first)
assert len(kids) == 4, kids
assert f"a group of accounts (docs/hierarchies.md): churnwatch account {first}\n" in text, first
group = text.split(f"churnwatch account {first}\n", 1)[1]
rolled = re.search(r"^children \(4\)  rolled up \(seat_weighted_mean\) ([\d.]+)  grade (\S+)$", group, re.M)
assert rolled, group[:2000]
listed = sorted(re.findall(r"^  ([a-z]+-\d{4}) +[\d.]+ \S+ +seats \d+$", group, re.M))
assert listed == kids, (listed, kids)
assert f"its users by engagement (docs/users.md): churnwatch users {first}\n" in group
users = re.findall(r"^  (\S+-u\d{3}) +(\S+) +(\d+)  \d{4}-\d\d-\d\d  (up|down|flat)", group, re.M)
assert users and all(u[0].startswith(first + "-u") for u in users), users
assert re.search(r"^  power users \d+ \(A or higher\)  ranked \d+  ranks SS=\d+ S=\d+ A=\d+ B=\d+ C=\d+$", group, re.M)
print(f"group {first}: children {kids} rolled up {rolled.group(1)}; {len(users)} users ranked")
PY
pass "demo: a group (a parent, its four children, their roll-up) and the parent's users by rank"

url=$(sed -n 's|^web console: \(http://127\.0\.0\.1:[0-9]*/\)$|\1|p' "$WORK/demo.txt")
[ -n "$url" ] || { cat "$WORK/demo.txt" >&2; fail "the demo did not print the web console's URL"; }
grep -qx '(it stops with the demo: `churnwatch demo --keep` keeps it up)' "$WORK/demo.txt" ||
  fail "the demo does not say how to keep the console up"
! curl -s -o /dev/null "$url" || fail "the demo's console still answers at $url"
pass "demo: printed the web console's URL ($url), stopped with the demo"

port=$(sed -n 's/^  redis-server on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$WORK/demo.txt")
[ -n "$port" ] || fail "the demo did not say where its redis-server listened"
! redis-cli -p "$port" ping >/dev/null 2>&1 || fail "the demo's redis-server still answers on $port"
pass "demo: its redis-server is stopped"
