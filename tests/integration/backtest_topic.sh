#!/usr/bin/env bash
# backtest_topic.sh - `churnwatch backtest --from-topic` on the mock cluster: the input topic
# (one partition) holding backtest_report.sh's hand-worked history (lib/backtest_history.py),
# produced in two calls, read to its end gives exactly the report of the same history read
# from the file, with --since too (the report starts there, the state warmed by all that
# comes before, as over a file); --from-topic with FILE is a usage error, and brokers that
# do not answer exit 2.
source "$(dirname "$0")/harness.bash"

python3 "$CW_SOURCE_DIR/tests/integration/lib/backtest_history.py" "$WORK" ||
  fail "backtest_history.py"
mock_start 1
kcli() { CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" "$CLI" "$@"; } # no Redis: cli() would want one
# The history in two produce calls: a read to the high watermark takes both.
head -n 100 "$WORK/events.jsonl" >"$WORK/first.jsonl"
tail -n +101 "$WORK/events.jsonl" >"$WORK/second.jsonl"
for half in first second; do
  kcli -c "$WORK/candidate.yaml" produce "$WORK/$half.jsonl" --key account 2>>"$WORK/produce.log" ||
    fail "churnwatch produce: $(cat "$WORK/produce.log")"
done

bt() { kcli -c "$WORK/candidate.yaml" backtest --batch 1 --baseline "$WORK/baseline.yaml" "$@"; }
bt --json --churn-event churned "$WORK/events.jsonl" >"$WORK/file.json" || fail "backtest FILE"
bt --json --churn-event churned --from-topic >"$WORK/topic.json" 2>"$WORK/topic.log" ||
  fail "backtest --from-topic: $(cat "$WORK/topic.log")"
python3 - "$WORK/file.json" "$WORK/topic.json" <<'PY' || fail "the topic's report is not the file's"
import json, sys
f, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert t["candidate"]["events"] == 238, t["candidate"]
assert t == f, json.dumps(t)[:2000]
PY
pass "--from-topic: the topic read to its end gives the file's report (238 events, every rule, diff and outcome)"

bt --json --since 2026-10-01 "$WORK/events.jsonl" >"$WORK/file-since.json" || fail "backtest --since FILE"
bt --json --since 2026-10-01 --from-topic >"$WORK/topic-since.json" 2>"$WORK/since.log" ||
  fail "backtest --from-topic --since: $(cat "$WORK/since.log")"
python3 - "$WORK/file-since.json" "$WORK/topic-since.json" "$WORK/file.json" <<'PY' || fail "--since on the topic"
import json, sys
f, t, whole = (json.load(open(a)) for a in sys.argv[1:])
assert t == f, json.dumps(t)[:2000]
# the report did start later: silent's first firing on b-gap (2026-10-01T10:00) is in, the
# health_low firings of September are out
rules = {r["rule"]: r for r in t["rules"]}
assert rules["health_low"]["candidate"]["episodes"] < \
    {r["rule"]: r for r in whole["rules"]}["health_low"]["candidate"]["episodes"], rules
assert rules["silent"]["candidate"]["first_fired_at"] == "2026-10-01T10:00:00Z", rules
PY
pass "--from-topic --since: the file's report from the same instant"

rc=0
bt --from-topic "$WORK/events.jsonl" >/dev/null 2>"$WORK/err.txt" || rc=$?
[ "$rc" = 1 ] && [ "$(grep -c -- '--from-topic or FILE..., not both' "$WORK/err.txt")" = 1 ] ||
  fail "--from-topic with a FILE: exit $rc, $(cat "$WORK/err.txt")"
rc=0
CHURNWATCH_KAFKA_BROKERS="127.0.0.1:$(free_port)" "$CLI" -c "$WORK/candidate.yaml" backtest \
  --from-topic >/dev/null 2>"$WORK/err.txt" || rc=$?
[ "$rc" = 2 ] && [ "$(grep -c -- '^churnwatch: --from-topic: kafka: topic usage-events: ' "$WORK/err.txt")" = 1 ] ||
  fail "unreachable brokers: exit $rc, $(cat "$WORK/err.txt")"
pass "errors: --from-topic with a FILE (exit 1), brokers that do not answer (exit 2)"
