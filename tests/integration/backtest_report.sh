#!/usr/bin/env bash
# backtest_report.sh - `churnwatch backtest`'s report from the command line: over a small
# history whose firings and churns are worked out by hand (lib/backtest_history.py), with a
# candidate and a baseline config that differ in one threshold (`silent` after 10 or 20
# days), the --json report's per-rule episodes, the diff against the baseline, precision,
# recall, lead time and AUC; the same outcomes from --churn-event and from --outcomes CSV;
# the text tables' key lines; --episodes next to the report; and the error paths (missing
# or bad outcomes file, bad --churn-event, outputs that cannot be written).
# No server: the backtest runs in memory.
source "$(dirname "$0")/harness.bash"

python3 "$CW_SOURCE_DIR/tests/integration/lib/backtest_history.py" "$WORK" ||
  fail "backtest_history.py"
# --batch 1: each event is judged at its own event time (a history this small fits in one
# poll of 256, which the daemon, and the replay with it, would judge at its newest event:
# docs/backtest.md "How it replays")
bt() { "$CLI" -c "$WORK/candidate.yaml" backtest --batch 1 --baseline "$WORK/baseline.yaml" "$@"; }

bt --json --churn-event churned --episodes "$WORK/episodes.jsonl" "$WORK/events.jsonl" \
  >"$WORK/churn-event.json" 2>"$WORK/bt.log" || fail "backtest --json --churn-event: $(cat "$WORK/bt.log")"
# By hand (day 0 = 2026-09-01; logins at 10:00 + the account's rank in minutes; an
# inactive rule is judged by the sweep at the first event of each day, a-steady's 10:00):
#   silent after 10d (candidate): b-gap (last login day 19 10:01) at day 30 10:00, c-quiet
#     (day 24 10:02) at day 35, d-late (day 44 10:03) at day 55 10:00;
#   silent after 20d (baseline): c-quiet at day 45 10:00 only (b-gap is back on day 35,
#     d-late's 20 days end after the history);
#   churns: c-quiet day 50 10:02, d-late day 48 10:03, e-active day 40 10:04. The
#     candidate's silent catches c-quiet only (d-late fired after its churn): precision 1/3,
#     recall 1/3, lead 15 days 2 minutes; the baseline's catches c-quiet 10 days later.
#   AUC at 30 days: the churned accounts scored 100 (7 logins in the 7 days before), the
#     retained a-steady 100 and b-gap 0 (away on day 29): pairs with the churned one lower
#     are none, ties 3 (of 6): 0.25. At 60 and 90 days no one has a score yet (59 days).
python3 - "$WORK/churn-event.json" "$WORK/episodes.jsonl" <<'PY' || fail "the --json report"
import json, sys
r = json.load(open(sys.argv[1]))
for side, path in (("candidate", "candidate.yaml"), ("baseline", "baseline.yaml")):
    s = r[side]
    assert s["config"].endswith(path), s
    assert (s["events"], s["rejected"], s["accounts"]) == (238, 0, 5), s
    assert (s["first_event_at"], s["last_event_at"]) == \
        ("2026-09-01T10:00:00Z", "2026-10-30T10:04:00Z"), s
rules = {x["rule"]: x for x in r["rules"]}
assert [x["rule"] for x in r["rules"]] == ["silent", "health_low"], r["rules"]
silent = rules["silent"]
assert silent["in"] == "both", silent
c, b = silent["candidate"], silent["baseline"]
assert (c["episodes"], c["open_episodes"], c["accounts"]) == (3, 2, 3), c
assert (c["first_fired_at"], c["last_fired_at"]) == \
    ("2026-10-01T10:00:00Z", "2026-10-26T10:00:00Z"), c
# b-gap's episode resolves at its return on day 35 10:01: 5 days and a minute
assert abs(c["median_closed_episode_days"] - 5.0) < 0.01, c
assert (b["episodes"], b["open_episodes"], b["accounts"]) == (1, 1, 1), b
assert b["first_fired_at"] == "2026-10-16T10:00:00Z" and b["median_closed_episode_days"] is None, b
d = silent["diff"]
assert d["newly_alerting"] == [
    {"account": "b-gap", "first_fired_at": "2026-10-01T10:00:00Z"},
    {"account": "d-late", "first_fired_at": "2026-10-26T10:00:00Z"}], d
assert d["no_longer_alerting"] == [], d
assert d["alerting_in_both"] == [{"account": "c-quiet", "first_fired_at": "2026-10-06T10:00:00Z",
                                  "baseline_first_fired_at": "2026-10-16T10:00:00Z",
                                  "shift_days": -10}], d
o = silent["outcomes"]
assert (o["accounts_fired"], o["fired_before_churn"], o["churned_accounts"]) == (3, 1, 3), o
assert o["precision"] == round(1 / 3, 2) and o["recall"] == round(1 / 3, 2), o
assert o["lead_days"] == [15.0] and o["median_lead_days"] == 15.0, o
# health_low has the same thresholds in both: the same accounts, first firings in both
hl = rules["health_low"]
assert hl["in"] == "both" and hl["candidate"] == hl["baseline"], hl
assert hl["diff"]["newly_alerting"] == [] and hl["diff"]["no_longer_alerting"] == [], hl
assert [x["account"] for x in hl["diff"]["alerting_in_both"]] == ["b-gap", "c-quiet", "d-late"], hl
assert all(x["shift_days"] == 0 for x in hl["diff"]["alerting_in_both"]), hl
assert r["outcomes"] == {"churned_accounts": 3, "retained_accounts": 2, "unknown_accounts": 0}, r["outcomes"]
auc = {a["horizon_days"]: a for a in r["score_auc"]}
assert sorted(auc) == [30, 60, 90], auc
assert auc[30]["auc"] == 0.25 and (auc[30]["churned_scored"], auc[30]["retained_scored"]) == (3, 2), auc
for h in (60, 90):
    assert auc[h]["auc"] is None and (auc[h]["churned_unscored"], auc[h]["retained_unscored"]) == (3, 2), auc
# --episodes next to the report: the candidate's episodes, as the summary counts them
eps = [json.loads(l) for l in open(sys.argv[2])]
got = sorted((e["account_id"], e["fired_at"]) for e in eps if e["rule"] == "silent")
assert got == [("b-gap", "2026-10-01T10:00:00Z"), ("c-quiet", "2026-10-06T10:00:00Z"),
               ("d-late", "2026-10-26T10:00:00Z")], got
assert len(eps) == c["episodes"] + hl["candidate"]["episodes"], len(eps)
PY
pass "--json: per-rule episodes, the baseline diff, precision/recall/lead and AUC as worked out by hand"

# The same churns from a CSV (plus an account the history never names): the same report
# but for the unknown account counted
bt --json --outcomes "$WORK/outcomes.csv" "$WORK/events.jsonl" >"$WORK/csv.json" ||
  fail "backtest --outcomes"
python3 - "$WORK/churn-event.json" "$WORK/csv.json" <<'PY' || fail "--outcomes CSV and --churn-event differ"
import json, sys
ev, csv = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert csv["outcomes"] == dict(ev["outcomes"], unknown_accounts=1), csv["outcomes"]
assert csv["rules"] == ev["rules"] and csv["score_auc"] == ev["score_auc"]
PY
pass "--outcomes CSV: the same report as --churn-event, the unknown account counted"

# Text: the key lines
bt --churn-event churned "$WORK/events.jsonl" >"$WORK/report.txt" || fail "backtest (text)"
has() { # has REGEX: a line of the text report matches
  [ "$(grep -cE -- "$1" "$WORK/report.txt")" -gt 0 ] || fail "text report lacks /$1/:
$(cat "$WORK/report.txt")"
}
has '^candidate: .*candidate\.yaml$'
has '^  238 events applied, 0 rejected, 5 accounts$'
has '^silent +candidate +3 +2 +3 +2026-10-01T10:00:00Z +2026-10-26T10:00:00Z +5\.0$'
has '^ +baseline +1 +1 +1 +2026-10-16T10:00:00Z +2026-10-16T10:00:00Z +n/a$'
has '^  silent: 2 newly alerting, 0 no longer alerting, 1 in both \(first firing 1 earlier, 0 later, 0 same\)$'
has '^    newly +b-gap +first fired 2026-10-01T10:00:00Z$'
has '^    shifted +c-quiet +earlier by 10\.0 days$'
has '^outcomes: 3 churned, 2 retained accounts'
has '^silent +3 +1 +0\.33 +0\.33 +15\.0 +15\.0 +15\.0$'
has '^ +30 d +0\.250 +3 +2 +0 +0$'
pass "text: the replay, per-rule, diff, outcome and AUC lines"

# Errors: exit 1, a reason naming what is wrong, nothing on stdout
bt_fail() { # bt_fail WHAT PATTERN ARGS...
  local what=$1 pattern=$2 rc=0
  shift 2
  bt "$@" >"$WORK/err.out" 2>"$WORK/err.txt" || rc=$?
  [ "$rc" = 1 ] || fail "backtest $what: exit $rc, not 1"
  [ "$(grep -cE -- "$pattern" "$WORK/err.txt")" -gt 0 ] ||
    fail "backtest $what: stderr lacks /$pattern/: $(cat "$WORK/err.txt")"
  [ ! -s "$WORK/err.out" ] || fail "backtest $what: wrote to stdout: $(head -c 300 "$WORK/err.out")"
}
printf 'account,churned_at\nc-quiet,2026-10-21\nd-late;2026-10-19\n' >"$WORK/bad.csv"
printf 'account,churned_at\nc-quiet,2026-13-21\n' >"$WORK/bad-date.csv"
bt_fail "a missing outcomes file" "absent\.csv: No such file" --outcomes "$WORK/absent.csv" "$WORK/events.jsonl"
bt_fail "a directory as outcomes" "$WORK: Is a directory" --outcomes "$WORK" "$WORK/events.jsonl"
bt_fail "a CSV line of one column" "bad\.csv: line 3: expected 2 columns" --outcomes "$WORK/bad.csv" "$WORK/events.jsonl"
bt_fail "a CSV date out of range" 'bad-date\.csv: line 2: churned_at "2026-13-21" is not' \
  --outcomes "$WORK/bad-date.csv" "$WORK/events.jsonl"
bt_fail "both outcomes options" "--outcomes or --churn-event, not both" \
  --outcomes "$WORK/outcomes.csv" --churn-event churned "$WORK/events.jsonl"
bt_fail "an unknown churn event" "--churn-event cancelled: not an event type of .*candidate\.yaml \(event_types: login churned\)" \
  --churn-event cancelled "$WORK/events.jsonl"
bt_fail "--json with --episodes -" "both would go to stdout" --json --episodes - "$WORK/events.jsonl"
bt_fail "--html -" "--html takes a file" --html - "$WORK/events.jsonl"
bt_fail "an --html in no directory" "nowhere/r\.html: No such file" --html "$WORK/nowhere/r.html" "$WORK/events.jsonl"
bt_fail "an --episodes in no directory" "nowhere/e\.jsonl: No such file" \
  --episodes "$WORK/nowhere/e.jsonl" "$WORK/events.jsonl"
bt_fail "a missing input, with --html and --episodes" "absent\.jsonl: No such file" \
  --html "$WORK/partial.html" --episodes "$WORK/partial.jsonl" "$WORK/absent.jsonl"
[ ! -e "$WORK/partial.html" ] && [ ! -e "$WORK/partial.jsonl" ] ||
  fail "a failed run left its --html or --episodes file behind"
rc=0
bt --json "$WORK/events.jsonl" >/dev/full 2>"$WORK/err.txt" || rc=$?
[ "$rc" = 1 ] && [ "$(grep -c 'write error' "$WORK/err.txt")" -gt 0 ] ||
  fail "a full stdout: exit $rc, $(cat "$WORK/err.txt")"
pass "errors: missing, unreadable and bad outcomes (file and line named), bad --churn-event, outputs that cannot be written, none left behind by a failed run"
