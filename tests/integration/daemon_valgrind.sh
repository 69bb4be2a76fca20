#!/usr/bin/env bash
# daemon_valgrind.sh - the real churnwatchd under valgrind memcheck: a short stream of good
# and malformed events (applied, scored, alerted, sent to the DLQ), a SIGHUP reload, then
# SIGTERM. Zero memcheck errors and zero definite/indirect leaks, or the test fails.
# The ASan build cannot run under valgrind: there the test is skipped (exit 77).
# (checked before the harness is sourced: its EXIT trap treats any non-zero exit as a failure)
if ldd "${CW_BUILD_DIR:?}/daemon/churnwatchd" | grep libasan >/dev/null; then
  echo "skip: churnwatchd is built with AddressSanitizer (covered by the ASan build instead)"
  exit 77
fi
source "$(dirname "$0")/harness.bash"
test_clock # a fixed "now": the generated history and its judgements never vary
command -v valgrind >/dev/null || fail "valgrind is not installed (deploy/install-deps.sh)"

redis_start
mock_start 4
write_config "$WORK/cw.yaml"

# A wrapper so the harness starts the daemon under memcheck. Suppressions (if any) are
# narrow and documented in tests/integration/valgrind.supp.
VG_LOG="$WORK/valgrind.log"
cat >"$WORK/churnwatchd-vg" <<SH
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 \
  --suppressions="$CW_SOURCE_DIR/tests/integration/valgrind.supp" --log-file="$VG_LOG" \
  "$DAEMON" "\$@"
SH
chmod +x "$WORK/churnwatchd-vg"
REAL_DAEMON=$DAEMON
DAEMON="$WORK/churnwatchd-vg"

# 6 accounts x 14 days of history ending now, plus malformed messages among them (sent
# with --force: produce refuses lines that are not JSON objects).
"$CLI" gen --seed 11 --accounts 6 --days 14 --end "$TEST_NOW" --rate-scale 0.2 -o "$WORK/events.jsonl" ||
  fail "churnwatch gen"
printf '%s\n' '{"account_id":"acme","type":"login"' 'not json' '[1,2]' \
  '{"account_id":"","type":"login"}' '{"account_id":"acme","type":"login","ts":"yesterday"}' \
  >>"$WORK/events.jsonl"
n=$(wc -l <"$WORK/events.jsonl")

daemon_start "$WORK/cw.yaml"
cli -c "$WORK/cw.yaml" produce "$WORK/events.jsonl" --key user --force 2>"$WORK/produce.log" ||
  fail "churnwatch produce"
wait_processed "$n" 300
kill -HUP "$DAEMON_PID"
wait_for 60 grep -q 'config reloaded' "$WORK/daemon.log" || fail "no reload under valgrind"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
[ "$rc" -ne 99 ] || { cat "$VG_LOG" >&2; fail "memcheck found errors or leaks (exit 99)"; }
[ "$rc" -eq 0 ] || { tail -n 40 "$VG_LOG" >&2; fail "churnwatchd exited with $rc under valgrind"; }
grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG" || { cat "$VG_LOG" >&2; fail "memcheck errors"; }
grep -Eq 'definitely lost: 0 bytes|All heap blocks were freed' "$VG_LOG" ||
  { cat "$VG_LOG" >&2; fail "definite leaks"; }
dlq=$(kcat -C -b "$BOOTSTRAP" -t usage-events-dlq -o beginning -e -q 2>/dev/null | wc -l)
[ "$dlq" -eq 5 ] || fail "expected 5 messages in the DLQ, got $dlq"
pass "$n messages under memcheck ($REAL_DAEMON): $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$VG_LOG"), $(grep -Eo 'definitely lost: [0-9,]+ bytes|All heap blocks were freed' "$VG_LOG" | head -n1)"
