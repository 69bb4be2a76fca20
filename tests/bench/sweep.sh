#!/usr/bin/env bash
# sweep.sh - the periodic sweep at scale: N accounts in a real redis-server (each with an
# event 8 days ago and one today, so every account is scored), then churnwatchd's sweep over
# all of them, with a backlog of M events consumed once while a sweep runs and once while
# none does; prints the sweep's duration against the interval and events/s in both cases.
# Before the console's pages are timed, the accounts are made unlike (vary.py): grades,
# segments, owners, rule states and resolved episodes, written the way the daemon stores them.
#   bash tests/bench/sweep.sh [--accounts N] [--events M] [--interval 5m] [--pages-only] [--smoke]
# --pages-only: stop after the console's pages (no sweep, no backlog).
# --smoke: 2,000 accounts, 5,000 events (CTest, label bench; no thresholds).
# Needs CW_BUILD_DIR (default ./build) and CW_SOURCE_DIR (default .).
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

ACCOUNTS=1000000 EVENTS=300000 INTERVAL=5m PARTITIONS=128 PAGES_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --accounts) ACCOUNTS=$2; shift 2 ;;
    --events) EVENTS=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --pages-only) PAGES_ONLY=1; shift ;;
    --smoke) ACCOUNTS=2000 EVENTS=5000 PARTITIONS=8; shift ;;
    *) echo "usage: $0 [--accounts N] [--events M] [--interval 5m] [--pages-only] [--smoke]" >&2
       exit 2 ;;
  esac
done
echo "command: bash tests/bench/sweep.sh --accounts $ACCOUNTS --events $EVENTS --interval $INTERVAL" \
  "$([ "$PAGES_ONLY" = 1 ] && echo --pages-only)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
now() { date +%s.%N; }

# The accounts' history (both events of an account next to each other, keyed by account:
# one apply each), and later the backlog: M events over the first 20,000 accounts.
python3 - "$ACCOUNTS" >"$WORK/accounts.jsonl" <<'PY'
import sys, time
n = int(sys.argv[1])
t = int(time.time()) - 3600
old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t - 8 * 86400))
new = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
out = sys.stdout
for a in range(n):
    for ts in (old, new):
        out.write('{"account_id":"acct-%07d","user_id":"u-1","type":"login","ts":"%s"}\n' % (a, ts))
PY
python3 - "$EVENTS" "$ACCOUNTS" >"$WORK/backlog.jsonl" <<'PY'
import random, sys, time
n, accounts = int(sys.argv[1]), min(int(sys.argv[2]), 20000)
rnd = random.Random(7)
ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) - 600))
for i in range(n):
    sys.stdout.write('{"account_id":"acct-%07d","user_id":"u-%d","type":"app_created","ts":"%s"}\n'
                     % (rnd.randrange(accounts), rnd.randrange(50), ts))
PY

redis_start
mock_start "$PARTITIONS"
write_config "$WORK/cw.yaml" 's/^  listen: 127.0.0.1:9464$/  listen: ""/' \
  "s/^sweep_interval: 5m\$/sweep_interval: $INTERVAL/"
grep -q "^sweep_interval: $INTERVAL\$" "$WORK/cw.yaml" || fail "could not set sweep_interval"
cli -c "$WORK/cw.yaml" produce "$WORK/accounts.jsonl" --brokers "$BOOTSTRAP" --topic usage-events \
  --key account >"$WORK/produce.log" 2>&1 || fail "produce failed: $(tail -n3 "$WORK/produce.log")"

# 1. Populate: the daemon applies and scores every account.
t0=$(now)
daemon_start "$WORK/cw.yaml"
wait_processed $((2 * ACCOUNTS)) 3600 || fail "the accounts were not applied"
t1=$(now)
echo "populated: $ACCOUNTS accounts ($((2 * ACCOUNTS)) events) in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s"
[ "$(rcli zcard cw:accounts)" -eq "$ACCOUNTS" ] || fail "cw:accounts holds $(rcli zcard cw:accounts)"
daemon_stop

# 1b. Unlike accounts (tests/bench/vary.py, docs/console.md "Cost"): four grades, three
# segments, 50 owners and 1 in 10,000 owned by "needle", 10% with rule states (firing or
# pending) and five resolved episodes each, acct-0000003 with 400 history days as well.
python3 "$CW_SOURCE_DIR/tests/bench/vary.py" "$ACCOUNTS" "$(date +%s)000" |
  redis-cli -p "$REDIS_PORT" --pipe >"$WORK/vary.log" 2>&1 || fail "vary.py: $(tail -n3 "$WORK/vary.log")"
echo "varied: $(grep -o 'errors: [0-9]*, replies: [0-9]*' "$WORK/vary.log")"

# 1c. The web console's pages over these accounts (docs/console.md "Cost"): the first and
# the deepest page of the list, a filter matching nothing (it scans up to 20,000 ranks), one
# matching 1 in 10,000, an account with a full history, the rules page (counts over up to
# 100,000 accounts, 10% of them with rule states); each timed by curl, twice.
CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "$CLI" -c "$WORK/cw.yaml" console \
  --listen 127.0.0.1:0 >"$WORK/console.out" 2>"$WORK/console.log" &
PIDS+=("$!")
wait_for 30 grep -q 'http://' "$WORK/console.out" || fail "the console did not start ($WORK/console.log)"
console=$(sed -n 's|.*\(http://[^/]*\)/.*|\1|p' "$WORK/console.out" | sed -n 1p)
page_ms() { # page_ms PATH: the time of one GET in ms (fails unless 200)
  local out
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$console$1") || fail "GET $1"
  [ "${out%% *}" = 200 ] || fail "GET $1 answered ${out%% *}"
  echo "scale=1; ${out#* } * 1000 / 1" | bc
}
for path in "/" "/?from=$((ACCOUNTS - 50))" "/?grade=A" "/?segment=nosuch" "/?owner=needle" \
  "/?owner=needle&from=$((ACCOUNTS / 2))" "/account?id=acct-0000007" "/account?id=acct-0000003" \
  "/rules"; do
  echo "console $path: $(page_ms "$path") ms, then $(page_ms "$path") ms ($ACCOUNTS accounts)"
done
kill "${PIDS[-1]}" && wait "${PIDS[-1]}" 2>/dev/null || true
[ "$PAGES_ONLY" = 1 ] && exit 0

# consume_backlog LABEL: produce the backlog and time its consumption (messages_total).
consume_backlog() {
  local base want t0 t1
  base=$(processed_total)
  want=$((${base:-0} + EVENTS))
  cli -c "$WORK/cw.yaml" produce "$WORK/backlog.jsonl" --brokers "$BOOTSTRAP" --topic usage-events \
    --key account >>"$WORK/produce.log" 2>&1 || fail "produce failed"
  t0=$(now)
  wait_processed "$want" 1800 || fail "the backlog was not consumed ($1)"
  t1=$(now)
  echo "$1: $EVENTS events in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s =" \
    "$(echo "$EVENTS / ($t1 - $t0)" | bc) events/s"
}

# 2. A restart starts a sweep cycle at once: the backlog is consumed while it runs.
: >"$WORK/daemon.log"
daemon_start "$WORK/cw.yaml"
wait_for 60 grep -q "kafka partitions assigned" "$WORK/daemon.log" || fail "no assignment"
ts=$(now)
consume_backlog "events/s during a sweep"
wait_for 3600 grep -q 'msg="sweep completed"' "$WORK/daemon.log" || fail "the sweep did not complete"
te=$(now)
line=$(grep 'msg="sweep completed"' "$WORK/daemon.log" | head -n1)
echo "sweep: $(echo "$line" | sed 's/.*accounts=\([0-9]*\) duration_ms=\([0-9]*\).*/\1 accounts in \2 ms/')" \
  "(wall $(printf '%.1f' "$(echo "$te - $ts" | bc)") s; interval $INTERVAL)"
swept=$(echo "$line" | sed 's/.*accounts=\([0-9]*\).*/\1/')
[ "$swept" -ge "$ACCOUNTS" ] || fail "the sweep saw $swept of $ACCOUNTS accounts"

# 3. No sweep runs now (the next is an interval away): the same backlog again.
consume_backlog "events/s with no sweep"
if grep -c 'msg="sweep completed"' "$WORK/daemon.log" | grep -v '^1$' >/dev/null; then
  echo "note: another sweep ran during the second backlog (a short --interval)"
fi
echo "daemon peak RSS (VmHWM): $(($(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' \
  "/proc/$DAEMON_PID/status") / 1024)) MB; redis used_memory: $(rcli info memory |
  sed -n 's/^used_memory_human:\(.*\)\r*$/\1/p')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
daemon_stop
