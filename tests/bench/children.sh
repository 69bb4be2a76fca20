#!/usr/bin/env bash
# children.sh - `churnwatch account P` for a parent P with 3 children among N stored
# accounts: the children are found through P's index (docs/hierarchies.md; a build before
# the index scans every account), so this prints what one call costs Redis (HGETALL calls,
# from INFO commandstats) and its wall time, for each CLI given (to compare builds in one
# run). Figures only, no thresholds; not run by CTest.
#   bash tests/bench/children.sh [--accounts N] [CLI...]
# CLI defaults to $CW_BUILD_DIR/daemon/churnwatch. Needs CW_BUILD_DIR (default ./build)
# and CW_SOURCE_DIR (default .).
CW_SOURCE_DIR=${CW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CW_BUILD_DIR=${CW_BUILD_DIR:-$CW_SOURCE_DIR/build}
export CW_SOURCE_DIR CW_BUILD_DIR
# shellcheck source=../integration/harness.bash
source "$CW_SOURCE_DIR/tests/integration/harness.bash"

N=5000
clis=()
while [ $# -gt 0 ]; do
  case $1 in
    --accounts) N=$2; shift 2 ;;
    -*) echo "usage: $0 [--accounts N] [CLI...]" >&2; exit 2 ;;
    *) clis+=("$1"); shift ;;
  esac
done
[ ${#clis[@]} -gt 0 ] || clis=("$CLI")
echo "command: bash tests/bench/children.sh --accounts $N ${clis[*]}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

redis_start
mock_start 4
# Without the shipped parent rule, which builds before it cannot read (the daemon keeps the
# index of children all the same).
write_config "$WORK/cw.yaml" 's/^  listen: 127.0.0.1:9464$/  listen: ""/' \
  '/^    # A group at risk/,/^      children: 2$/d'
! grep -n 'kind: children_at_risk' "$WORK/cw.yaml" >/dev/null || fail "the parent rule is still in the config"
daemon_start "$WORK/cw.yaml"
# acct-0000000..N-1 log in an hour ago; acct-0000001..3 name acct-0000000 as their parent.
python3 - "$N" >"$WORK/events.jsonl" <<'PY'
import sys, time
n = int(sys.argv[1])
ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) - 3600))
for a in range(n):
    sys.stdout.write('{"account_id":"acct-%07d","user_id":"u-1","type":"login","ts":"%s"}\n'
                     % (a, ts))
for a in (1, 2, 3):
    sys.stdout.write('{"account_id":"acct-%07d","type":"account_updated","ts":"%s",'
                     '"traits":{"parent_id":"acct-0000000","seats":10}}\n' % (a, ts))
PY
cli -c "$WORK/cw.yaml" produce "$WORK/events.jsonl" --key account >"$WORK/produce.log" 2>&1 ||
  fail "produce failed: $(tail -n3 "$WORK/produce.log")"
wait_processed $((N + 3)) 3600
daemon_stop

for bin in "${clis[@]}"; do
  rcli config resetstat >/dev/null
  t0=$(date +%s.%N)
  CHURNWATCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" "$bin" -c "$WORK/cw.yaml" \
    account acct-0000000 >"$WORK/out.txt" || fail "$bin account acct-0000000 failed"
  t1=$(date +%s.%N)
  grep 'children (3)' "$WORK/out.txt" >/dev/null || fail "$bin did not list the 3 children"
  calls=$(rcli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_hgetall:calls=\([0-9]*\),.*/\1/p')
  echo "$bin: $N accounts, $(printf '%.3f' "$(echo "$t1 - $t0" | bc)") s, $calls HGETALL" \
    "($(echo "scale=2; $calls / $N" | bc) an account)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
