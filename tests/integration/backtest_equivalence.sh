#!/usr/bin/env bash
# backtest_equivalence.sh - `churnwatch backtest` with the running config over the history
# the real daemon consumed gives exactly the daemon's episodes: the same (account, rule,
# alert_id, fired instant) for every firing the daemon judged in event time, under the
# conditions docs/backtest.md "Exactness" states (one partition, time-ordered input,
# --batch 1 on both sides, at most 256 accounts, sweep_interval longer than the catch-up,
# the whole history produced before the daemon starts).
source "$(dirname "$0")/harness.bash"
test_clock

SEED=11
ACCOUNTS=12
DAYS=30
END=2026-11-01T00:00:00Z # well behind the test's "now": the daemon judges it in event time

"$CLI" gen --seed "$SEED" --accounts "$ACCOUNTS" --days "$DAYS" --end "$END" \
  -o "$WORK/gen.jsonl" || fail "churnwatch gen"
# The end of the backlog turns the daemon's clock to the wall clock, and a batch judged
# then fires at the wall clock: a last event of another account, at the history's last
# instant, takes that place, so every event of the history is judged in event time.
python3 - "$WORK/gen.jsonl" "$WORK/events.jsonl" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
last = json.loads(lines[-1])
last["account_id"] = "zz-sentinel"
with open(sys.argv[2], "w") as f:
    f.writelines(lines)
    f.write(json.dumps(last) + "\n")
PY
n=$(wc -l <"$WORK/events.jsonl")

# Usage errors: exit 1 with a reason, nothing replayed.
bt_fail() { # bt_fail WHAT PATTERN ARGS...
  local what=$1 pattern=$2 rc=0
  shift 2
  "$CLI" -c "$CW_SOURCE_DIR/conf/churnwatch.yaml" backtest "$@" >"$WORK/bt.out" 2>"$WORK/bt.err" || rc=$?
  [ "$rc" = 1 ] || fail "backtest $what: exit $rc, not 1"
  [ "$(grep -cE -- "$pattern" "$WORK/bt.err")" -gt 0 ] || fail "backtest $what: stderr lacks /$pattern/: $(cat "$WORK/bt.err")"
}
bt_fail "without input" "no input FILE" --since 30d
bt_fail "--since nonsense" "--since yesterday-ish: a duration" --since yesterday-ish "$WORK/gen.jsonl"
bt_fail "--batch 0" "--batch must be" --batch 0 "$WORK/gen.jsonl"
bt_fail "a missing file" "absent.jsonl" "$WORK/absent.jsonl"
bt_fail "a bad baseline" "absent.yaml" --baseline "$WORK/absent.yaml" "$WORK/gen.jsonl"
pass "backtest usage errors"

redis_start
mock_start 1
write_config "$WORK/cw.yaml" "s/^sweep_interval: 5m\$/sweep_interval: 1d/"
grep -q '^sweep_interval: 1d$' "$WORK/cw.yaml" || fail "could not set sweep_interval"
cli -c "$WORK/cw.yaml" produce "$WORK/events.jsonl" --key account 2>>"$WORK/produce.log" ||
  fail "churnwatch produce"
# the log exists before wait_processed reads it (harness.bash, daemon_start)
: >>"$WORK/daemon.log"
CHURNWATCH_KAFKA_BROKERS="$BOOTSTRAP" CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
  CHURNWATCH_LOG_LEVEL=debug "$DAEMON" -c "$WORK/cw.yaml" --batch 1 >>"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
wait_processed "$n" 300
topic_dump churnwatch-alerts >"$WORK/alerts.jsonl"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "churnwatchd exited with an error after SIGTERM"

"$CLI" -c "$WORK/cw.yaml" backtest --batch 1 --episodes "$WORK/episodes.jsonl" \
  "$WORK/events.jsonl" >"$WORK/backtest.out" || fail "churnwatch backtest"

python3 - "$WORK/gen.jsonl" "$WORK/alerts.jsonl" "$WORK/episodes.jsonl" <<'PY' || fail "episodes differ"
import json, sys
from datetime import datetime
def ms(t):
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000 + 0.5)
cut = max(ms(json.loads(l)["ts"]) for l in open(sys.argv[1]) if l.strip())
def keep(acct, at):
    return acct != "zz-sentinel" and at <= cut
daemon = set()
for l in open(sys.argv[2]):
    a = json.loads(l)
    if a["status"] == "firing" and keep(a["account_id"], ms(a["observed_at"])):
        daemon.add((a["account_id"], a["rule"], a["alert_id"], ms(a["observed_at"])))
replay = set()
for l in open(sys.argv[3]):
    e = json.loads(l)
    if keep(e["account_id"], ms(e["fired_at"])):
        replay.add((e["account_id"], e["rule"], e["alert_id"], ms(e["fired_at"])))
for x in sorted(daemon - replay):
    print("daemon only:", *x, file=sys.stderr)
for x in sorted(replay - daemon):
    print("backtest only:", *x, file=sys.stderr)
print(len(daemon), "firings compared")
sys.exit(0 if daemon == replay and daemon else 1)
PY
pass "backtest: the daemon's episodes exactly ($n events)"
