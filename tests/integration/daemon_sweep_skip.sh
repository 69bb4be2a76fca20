#!/usr/bin/env bash
# daemon_sweep_skip.sh - a sweep cycle leaves out the accounts a batch scored since it
# began, and only those (docs/design.md, "A sweep cycle skips what batches scored since it
# began"), through the real daemon:
#   1. 600 accounts, one event each, then a rescore: the cycle scores all 600, skips none
#      (every batch came before it), and the sweep now knows the size of a cycle;
#   2. a second rescore, paced over sweep_interval (60 s): its first page is swept at once,
#      the next ones 26 s and 51 s later; in between, one more event for 300 of the accounts.
#      The cycle skips some of those 300 (the ones in its later pages), never more than 300
#      (an account no batch scored is always swept), its pages scored the others, and the
#      counters agree with the log: churnwatch_accounts_scored_total is every batch's
#      scorings plus every sweep page's, churnwatch_sweep_skipped_total every page's skips.
source "$(dirname "$0")/harness.bash"
test_clock

redis_start
mock_start 4
write_config "$WORK/cw.yaml" 's/^sweep_interval: 5m$/sweep_interval: 60s/'
grep '^sweep_interval: 60s$' "$WORK/cw.yaml" >/dev/null || fail "could not set sweep_interval"
URL="http://$(sed -n 's/^  listen: //p' "$WORK/cw.yaml")"

# events FILE FIRST COUNT SECONDS_AGO: one login for each account s-FIRST.. (COUNT of them).
events() {
  python3 - "$1" "$2" "$3" "$(($(date -u -d "$TEST_NOW" +%s) - $4))" <<'PY'
import sys
out, first, count, ts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
import time
stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
with open(out, "w") as f:
    for a in range(first, first + count):
        f.write('{"event_id":"e-%d-%03d","account_id":"s-%03d","user_id":"u1",'
                '"type":"login","ts":"%s"}\n' % (ts, a, a, stamp))
PY
}

daemon_start "$WORK/cw.yaml"
events "$WORK/first.jsonl" 0 600 120
cli -c "$WORK/cw.yaml" produce "$WORK/first.jsonl" --key account 2>>"$WORK/produce.log" ||
  fail "churnwatch produce"
wait_processed 600 120

# ---- 1. a cycle after the batches: nothing to skip ----------------------------------------
rescore_and_wait "$WORK/cw.yaml"
last_sweep() { grep 'msg="sweep completed"' "$(daemon_log)" | tail -n1; }
line=$(last_sweep)
[[ $line == *" accounts=600 skipped=0 "* ]] || fail "first cycle: $line"
pass "a cycle after the batches sweeps all 600 accounts, skips none"

# ---- 2. a paced cycle with a batch inside it ----------------------------------------------
mark=$(wc -l <"$(daemon_log)")
cli -c "$WORK/cw.yaml" rescore >/dev/null || fail "churnwatch rescore"
started=$(wait_log_after "$mark" 'msg="sweep started" why=rescore' 60)
events "$WORK/second.jsonl" 0 300 60
cli -c "$WORK/cw.yaml" produce "$WORK/second.jsonl" --key account 2>>"$WORK/produce.log" ||
  fail "churnwatch produce"
wait_processed 900 120
done_line=$(wait_log_after "$started" 'msg="sweep completed"' 180)
line=$(sed -n "${done_line}p" "$(daemon_log)")
skipped=$(echo "$line" | sed -n 's/.* skipped=\([0-9]*\) .*/\1/p')
[[ $line == *" accounts=600 "* ]] || fail "second cycle: $line"
[ -n "$skipped" ] && [ "$skipped" -ge 1 ] && [ "$skipped" -le 300 ] ||
  fail "second cycle skipped ${skipped:-?} accounts, expected 1..300 (of the 300 the batch scored): $line"
# Every scoring is a batch's (its accounts, once the clock is known) or a sweep page's (its
# scored=); the counters, read now that the cycle completed (the next one is most of an
# interval away), must be their sums over the whole run. (A cycle that outlasted its interval
# is followed at once by the next: scorings counted from some instant on could include a
# page of it that is not the cycle's.)
# logged A B: accounts scored by batches, by sweep pages, and skipped by pages, lines A+1..B
logged() {
  awk -v a="$1" -v b="$2" 'NR > a && NR <= b {
      batch = /msg="batch processed"/; page = /msg="sweep page"/; n = 0; c = -1
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (batch && kv[1] == "accounts") n = kv[2]
        if (batch && kv[1] == "clock") c = kv[2]
        if (page && kv[1] == "scored") swept += kv[2]
        if (page && kv[1] == "skipped") skips += kv[2]
      }
      if (batch && c >= 0) batches += n
    } END { print batches + 0, swept + 0, skips + 0 }' "$(daemon_log)"
}
read -r by_batch by_pages skips < <(logged "$started" "$done_line")
[ "$by_batch" -eq 300 ] || fail "batches scored $by_batch accounts during the second cycle, expected 300"
[ "$by_pages" -eq $((600 - skipped)) ] ||
  fail "the second cycle's pages scored $by_pages accounts, expected the $((600 - skipped)) it did not skip"
[ "$skips" -eq "$skipped" ] || fail "the second cycle's pages skipped $skips accounts, its end says $skipped"
read -r by_batch by_pages skips < <(logged 0 "$(wc -l <"$(daemon_log)")")
scored=$(metric churnwatch_accounts_scored_total)
[ "$scored" -eq $((by_batch + by_pages)) ] ||
  fail "churnwatch_accounts_scored_total is $scored, the log says $by_batch by batches + $by_pages by sweep pages"
[ "$(metric churnwatch_sweep_skipped_total)" -eq "$skips" ] ||
  fail "churnwatch_sweep_skipped_total is $(metric churnwatch_sweep_skipped_total), the sweep pages logged $skips"
pass "a paced cycle skips $skipped of the 300 accounts a batch scored inside it, sweeps the other $((600 - skipped))"
