#!/usr/bin/env bash
# backtest_browser.sh - `churnwatch backtest --html`'s page in a real browser (Debian's
# chromium, headless), over backtest_report.sh's hand-worked history (lib/backtest_history.py)
# plus an account with a hostile id:
#   1. the page as the browser built it has every section (replay, rules, baseline diff,
#      alerts per week, outcomes, AUC, score distributions, lead times), the per-rule and
#      precision tables with the report's numbers, and its SVG plots with bars: alerts over
#      time per rule, score distributions churned vs retained, lead-time histogram per rule;
#   2. it loads nothing but itself: served over HTTP, the server is asked for the page (and
#      the browser's own /favicon.ico) only, and the DOM references nothing outside the page
#      (no src, href, url(), @import), has no script and no event handler;
#   3. the hostile id (markup, U+202E) shows as its escaped text, injecting no element;
#   4. a screenshot (PNG), kept in the build directory (backtest-screenshots/) for docs/images.
# SKIPs (77) only without chromium. Waits are on conditions (the server answering, the
# browser's exit).
source "$(dirname "$0")/harness.bash"
browser_start

HOSTILE=$'acct-<img src=x onerror=alert(1)>\u202eexe'
python3 "$CW_SOURCE_DIR/tests/integration/lib/backtest_history.py" "$WORK" "$HOSTILE" ||
  fail "backtest_history.py"
mkdir "$WORK/site"
# --batch 1 as in backtest_report.sh
"$CLI" -c "$WORK/candidate.yaml" backtest --batch 1 --baseline "$WORK/baseline.yaml" \
  --churn-event churned --json --html "$WORK/site/report.html" "$WORK/events.jsonl" \
  >"$WORK/report.json" 2>"$WORK/bt.log" || fail "backtest --html: $(cat "$WORK/bt.log")"

PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/site" "$PORT" \
  >/dev/null 2>"$WORK/http.log" &
PIDS+=($!)
wait_for 30 curl -sf -o /dev/null "http://127.0.0.1:$PORT/" || fail "python3 -m http.server did not start"
URL="http://127.0.0.1:$PORT/report.html"
dom "$URL" "$WORK/dom.html"
python3 "$CW_SOURCE_DIR/tests/integration/lib/backtest_dom.py" "$WORK/dom.html" >"$WORK/dom.json" ||
  fail "backtest_dom.py"

# 1. sections, tables, plots. With the hostile account (b-gap's days): silent fires for 4
# accounts, catches c-quiet only (precision 1/4, recall 1/3, lead 15.0 days).
python3 - "$WORK/dom.json" "$WORK/report.json" <<'PY' || fail "the page's sections, tables and plots"
import json, sys
d, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = ["summary", "rules", "diff", "alerts", "outcomes", "auc", "scores", "leads"]
assert d["sections"] == want, d["sections"]
t = d["tables"]
assert t["summary"][1][:5] == ["candidate", r["candidate"]["config"], "283", "0", "6"], t["summary"]
rows = {(row[0], row[1]): row for row in t["rules"][1:]}
assert [k for k in rows] == [("silent", "candidate"), ("silent", "baseline"),
                             ("health_low", "candidate"), ("health_low", "baseline")], rows
for rule in r["rules"]:
    for side in ("candidate", "baseline"):
        s = rule[side]
        row = rows[(rule["rule"], side)]
        assert row[2:5] == [str(s["episodes"]), str(s["open_episodes"]), str(s["accounts"])], (row, s)
assert rows[("silent", "candidate")][2:5] == ["4", "2", "4"], rows  # b-gap and the hostile one resolve
prec = {row[0]: row for row in t["outcomes.precision"][1:]}
assert prec["silent"][1:] == ["4", "1", "0.25", "0.33", "15.0"], prec
newly = [row[0] for row in t["diff.newly"][1:]]
assert len(newly) == 3 and newly[1:] == ["b-gap", "d-late"], newly  # [0]: the hostile id
auc = {row[0]: row for row in t["auc"][1:]}
assert sorted(auc) == ["30", "60", "90"] and auc["60"][1] == "n/a", auc
# the plots: alerts per week per rule, score distributions at 30 days (churned and
# retained: 2 x 10 bins), lead times per rule (7 bins)
plots = d["plots"]
assert sorted(plots) == ["plot-alerts-0", "plot-alerts-1", "plot-leads-0", "plot-leads-1",
                         "plot-scores-30"], plots
assert plots["plot-scores-30"] == 20 and plots["plot-leads-0"] == 7, plots
assert all(n > 0 for n in plots.values()), plots
print("  plots:", ", ".join(f"{k} ({n} bars)" for k, n in sorted(plots.items())))
PY
pass "the page: every section, the rules and precision tables with the report's numbers, SVG plots of alerts per week, score distributions and lead times"

# 2. nothing loaded but the page
python3 - "$WORK/dom.json" "$WORK/http.log" <<'PY' || fail "the page loads or references something else"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["external"] == [], d["external"]
assert d["scripts"] == [], d["scripts"]
asked = set(re.findall(r'"GET (\S+) HTTP', open(sys.argv[2]).read())) - {"/"}  # "/": the start probe
assert "/report.html" in asked and asked <= {"/report.html", "/favicon.ico"}, asked
PY
pass "self-contained: the server was asked for the page only, the DOM references nothing outside it, no script"

# 3. the hostile id: inert
python3 - "$WORK/dom.json" "$WORK/dom.html" "$HOSTILE" "$CW_SOURCE_DIR/tests/integration/lib" <<'PY' || fail "the hostile id is not inert"
import json, sys
sys.path.insert(0, sys.argv[4])
from console_dom import display
d, html, hostile = json.load(open(sys.argv[1])), open(sys.argv[2], encoding="utf-8").read(), sys.argv[3]
assert "img" not in d["elements"], d["elements"]
assert "\u202e" not in html, "a raw U+202E in the DOM"
shown = display(hostile)
assert shown.endswith("\\u202eexe") and "<img" in shown, shown
newly = [row[0] for row in d["tables"]["diff.newly"][1:]]
assert shown in newly, (shown, newly)
PY
pass "a hostile id (markup, U+202E) shows as its escaped text, no element injected"

# 4. the screenshot
shot "$URL" "$WORK/backtest-report.png" 1000 3000
mkdir -p "$CW_BUILD_DIR/backtest-screenshots"
cp "$WORK/backtest-report.png" "$CW_BUILD_DIR/backtest-screenshots/"
pass "screenshot: backtest-report.png (also in $CW_BUILD_DIR/backtest-screenshots)"
